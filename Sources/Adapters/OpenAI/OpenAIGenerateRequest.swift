// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// The body of the seed's `POST /api/v1/llm/generate`: a prompt in, text out.
///
/// ```json
/// {"prompt": "Hello", "system": "Be brief.", "model": "deepseek-chat", "temperature": 0.7, "max_tokens": 200, "stream": false}
/// ```
package struct OpenAIGenerateRequest: Decodable {
    var prompt: String
    var system: String?
    var model: String?
    var temperature: Double?
    var maxTokens: Int?
    var stream: Bool

    enum CodingKeys: String, CodingKey {
        case prompt, system, model, temperature, stream
        case maxTokens = "max_tokens"
    }

    package static func decode(_ body: some Collection<UInt8>) throws -> Self {
        try OpenAIError.decoding(Self.self, from: body)
    }

    package init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<CodingKeys>
        do {
            container = try decoder.container(keyedBy: CodingKeys.self)
        } catch {
            throw OpenAIError.invalidRequest("The body must be a JSON object.")
        }
        prompt = try container.decode(String.self, forKey: .prompt)
        guard !prompt.isEmpty else { throw OpenAIError.invalidRequest("`prompt` must be a non-empty string.", param: "prompt") }
        system = try container.field(.system, String.self)
        model = try container.field(.model, String.self)
        temperature = try container.field(.temperature, Double.self)
        if let temperature, !(0...2).contains(temperature) {
            throw OpenAIError.invalidRequest("Invalid 'temperature': expected a number from 0 to 2, but got \(temperature) instead.", param: "temperature")
        }
        maxTokens = try container.field(.maxTokens, Int.self)
        if let maxTokens, maxTokens < 1 {
            throw OpenAIError.invalidRequest("Invalid 'max_tokens': expected a value >= 1, but got \(maxTokens) instead.", param: "max_tokens")
        }
        stream = try container.field(.stream, Bool.self) ?? false
    }

    package func chatRequest(model: String) -> ChatRequest {
        var messages = [ChatMessage]()
        if let system { messages.append(ChatMessage(role: .system, content: system)) }
        messages.append(ChatMessage(role: .user, content: prompt))
        return ChatRequest(model: model, messages: messages, maxTokens: maxTokens, temperature: temperature)
    }
}

/// The answer of `POST /api/v1/llm/generate`, and its stream's events.
struct OpenAIGenerateResponse: Encodable {
    var text: String
    var model: String
    var usage: OpenAIUsage?

    /// A piece of a streamed answer: `{"text": …}`.
    struct Piece: Encodable {
        var text: String
    }

    /// The end of a streamed answer: `{"done": true, "model": …, "usage": …}`.
    struct Done: Encodable {
        var done = true
        var model: String
        var usage: OpenAIUsage?
    }
}
