// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// The body of `POST /v1/chat/completions`, decoded and checked as OpenAI checks it: a wrong type or
/// a value out of range is an ``OpenAIError`` (400) naming the `param`, never silently taken.
///
/// Fields the hub does not pass on (`stop`, `presence_penalty`, `seed`, `user`, …) are accepted and
/// ignored, as other OpenAI-compatible servers do; features it cannot serve (`n` above 1, tools,
/// non-text content) are refused clearly.
public struct OpenAIChatCompletionRequest: Decodable, Sendable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stream: Bool
    /// `stream_options.include_usage`: a last chunk carries the usage.
    public var includeUsage: Bool

    /// The engine's request.
    public var chatRequest: ChatRequest {
        ChatRequest(model: model, messages: messages, maxTokens: maxTokens, temperature: temperature, topP: topP)
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, n, temperature, stream, tools, functions
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topP = "top_p"
        case streamOptions = "stream_options"
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?

        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// Decodes `body`, throwing ``OpenAIError`` for anything OpenAI would refuse.
    public static func decode(_ body: some Collection<UInt8>) throws -> Self {
        try OpenAIError.decoding(Self.self, from: body)
    }

    public init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<CodingKeys>
        do {
            container = try decoder.container(keyedBy: CodingKeys.self)
        } catch {
            throw OpenAIError.invalidRequest("The body must be a JSON object.")
        }
        model = try container.decode(String.self, forKey: .model)
        guard !model.isEmpty else { throw OpenAIError.invalidRequest("`model` must not be empty.", param: "model") }
        let wire = try container.decode([WireMessage].self, forKey: .messages)
        guard !wire.isEmpty else {
            throw OpenAIError.invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", param: "messages")
        }
        messages = try wire.enumerated().map { index, message in try message.chatMessage(at: index) }
        if let n = try container.field(.n, Int.self) {
            guard n >= 1 else {
                throw OpenAIError.invalidRequest("Invalid 'n': integer below minimum value. Expected a value >= 1, but got \(n) instead.", param: "n")
            }
            guard n == 1 else { throw OpenAIError.invalidRequest("This hub returns one choice per request: `n` must be 1.", param: "n") }
        }
        let maxCompletionTokens = try container.field(.maxCompletionTokens, Int.self)
        let legacyMaxTokens = try container.field(.maxTokens, Int.self)
        maxTokens = maxCompletionTokens ?? legacyMaxTokens
        if let maxTokens, maxTokens < 1 {
            let param = maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
            throw OpenAIError.invalidRequest(
                "Invalid '\(param)': integer below minimum value. Expected a value >= 1, but got \(maxTokens) instead.", param: param)
        }
        temperature = try Self.number(container, .temperature, in: 0...2)
        topP = try Self.number(container, .topP, in: 0...1)
        stream = try container.field(.stream, Bool.self) ?? false
        let options = try container.field(.streamOptions, StreamOptions.self)
        if options != nil, !stream {
            throw OpenAIError.invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options")
        }
        includeUsage = options?.includeUsage ?? false
        if try !container.isAbsentOrNull(.tools) || !container.isAbsentOrNull(.functions) {
            throw OpenAIError.invalidRequest("Tools and functions are not supported by this hub.", param: container.contains(.tools) ? "tools" : "functions")
        }
    }

    private static func number(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = try container.field(key, Double.self) else { return nil }
        guard value.isFinite, range.contains(value) else {
            throw OpenAIError.invalidRequest(
                "Invalid '\(key.stringValue)': expected a number from \(range.lowerBound.formatted()) to \(range.upperBound.formatted()), but got \(value) instead.",
                param: key.stringValue)
        }
        return value
    }
}

extension KeyedDecodingContainer {
    /// The value at `key` (nil when absent or null); a value of the wrong type is an
    /// ``OpenAIError`` naming the key, whatever path the decoder reports.
    func field<T: Decodable>(_ key: Key, _ type: T.Type) throws -> T? {
        do {
            return try decodeIfPresent(type, forKey: key)
        } catch let error as OpenAIError {
            throw error
        } catch {
            // Foundation reports a number that does not fit (1.5 for an integer) with an internal
            // error, not a DecodingError: whatever it is, the key is what the client needs.
            if let error = error as? DecodingError, case .typeMismatch = error, !(type is any FixedWidthInteger.Type), !(type is Bool.Type),
                !(type is Double.Type)
            {
                throw OpenAIError(error)
            }
            throw OpenAIError.invalidRequest("Invalid type for '\(key.stringValue)': expected \(OpenAIError.describe(type)).", param: key.stringValue)
        }
    }

    /// Whether `key` is absent or JSON null.
    fileprivate func isAbsentOrNull(_ key: Key) throws -> Bool {
        guard contains(key) else { return true }
        return try decodeNil(forKey: key)
    }
}

/// One message as OpenAI clients send it: `content` a string, an array of parts, or null.
private struct WireMessage: Decodable {
    struct Part: Decodable {
        var type: String
        var text: String?
    }

    enum Content: Decodable {
        case text(String)
        case parts([Part])
        case none

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .none
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }
    }

    var role: String
    var content: Content?

    func chatMessage(at index: Int) throws -> ChatMessage {
        let chatRole: ChatMessage.Role
        switch role {
        case "system", "developer": chatRole = .system
        case "user": chatRole = .user
        case "assistant": chatRole = .assistant
        case "tool", "function":
            throw OpenAIError.invalidRequest("Tool messages are not supported by this hub.", param: "messages[\(index)].role")
        default:
            throw OpenAIError.invalidRequest(
                "Invalid value: '\(role)'. Supported values are: 'system', 'developer', 'user' and 'assistant'.", param: "messages[\(index)].role")
        }
        switch content ?? .none {
        case .text(let text):
            return ChatMessage(role: chatRole, content: text)
        case .parts(let parts):
            var text = ""
            for (position, part) in parts.enumerated() {
                guard part.type == "text" else {
                    throw OpenAIError.invalidRequest(
                        "Only text content parts are supported by this hub (got '\(part.type)').",
                        param: "messages[\(index)].content[\(position)].type")
                }
                guard let piece = part.text else {
                    throw OpenAIError.invalidRequest(
                        "messages[\(index)].content[\(position)] is a text part without its `text`.",
                        param: "messages[\(index)].content[\(position)].text")
                }
                text += piece
            }
            return ChatMessage(role: chatRole, content: text)
        case .none:
            guard chatRole == .assistant else {
                throw OpenAIError.invalidRequest("messages[\(index)].content must be a string or an array of parts.", param: "messages[\(index)].content")
            }
            return ChatMessage(role: chatRole, content: "")
        }
    }
}

extension OpenAIError {
    /// `T` decoded from a request body; any failure is the ``OpenAIError`` OpenAI would send.
    static func decoding<T: Decodable>(_ type: T.Type, from body: some Collection<UInt8>) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as OpenAIError {
            throw error
        } catch let error as DecodingError {
            throw OpenAIError(error)
        } catch {
            throw OpenAIError.invalidRequest("We could not parse the JSON body of your request.")
        }
    }

    /// A decoding failure as OpenAI words it: the field's path and what was wrong with it.
    init(_ error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text
        }
        switch error {
        case .typeMismatch(let type, let context):
            let param = path(context.codingPath)
            self = .invalidRequest("Invalid type for '\(param)': expected \(Self.describe(type)).", param: param)
        case .valueNotFound(let type, let context):
            let param = path(context.codingPath)
            self = .invalidRequest("Invalid type for '\(param)': expected \(Self.describe(type)), but got null instead.", param: param)
        case .keyNotFound(let key, let context):
            let param = path(context.codingPath + [key])
            self = .invalidRequest("Missing required parameter: '\(param)'.", param: param)
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            // A number that does not fit the type (1.5 for an integer, 1e400).
            let param = path(context.codingPath)
            self = .invalidRequest("Invalid value for '\(param)': \(context.debugDescription)", param: param)
        default:
            self = .invalidRequest("We could not parse the JSON body of your request.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "a boolean"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        default: "an object or array of the documented shape"
        }
    }
}
