// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// A whole answer of `POST /v1/chat/completions` (`object: chat.completion`).
struct OpenAIChatCompletion: Encodable {
    struct Choice: Encodable {
        struct Message: Encodable {
            var role = "assistant"
            var content: String
        }

        var index = 0
        var message: Message
        var finishReason: String

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    var id: String
    var object = "chat.completion"
    var created: Int64
    var model: String
    var choices: [Choice]
    var usage: OpenAIUsage?
}

/// One chunk of a streamed answer (`object: chat.completion.chunk`).
struct OpenAIChatCompletionChunk: Encodable {
    struct Choice: Encodable {
        struct Delta: Encodable {
            var role: String?
            var content: String?
        }

        var index = 0
        var delta: Delta
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encode(finishReason, forKey: .finishReason)  // null until the last
        }
    }

    var id: String
    var object = "chat.completion.chunk"
    var created: Int64
    var model: String
    var choices: [Choice]
    /// Present (as null until the last chunk) only when the client asked for usage.
    var usage: OpenAIUsage?
    var includesUsage: Bool

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(object, forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        try container.encode(choices, forKey: .choices)
        if includesUsage { try container.encode(usage, forKey: .usage) }
    }
}

/// Token counts in OpenAI's words (also in the web chat's `done` frames).
struct OpenAIUsage: Encodable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    init(_ usage: TokenUsage) {
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        totalTokens = usage.totalTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
}

/// `GET /v1/models`.
struct OpenAIModelList: Encodable {
    struct Model: Encodable {
        var id: String
        var object = "model"
        var created: Int64 = 0
        var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }

    var object = "list"
    var data: [Model]
}
