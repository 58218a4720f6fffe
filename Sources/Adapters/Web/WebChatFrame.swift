// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// A frame the web chat sends to a client, on the WebSocket or as an SSE event.
///
/// ```json
/// {"type":"history","messages":[{"role":"user","content":"hi","created_at":"2026-11-22T05:00:00Z"}],"model":null,"models":["m"]}
/// {"type":"delta","id":"c1","text":"Hel"}
/// {"type":"done","id":"c1","usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11},"model":"m"}
/// {"type":"error","id":"c1","message":"You're sending messages too fast."}
/// ```
public enum WebChatFrame: Sendable, Hashable {
    /// The conversation so far (oldest first), the session's model (nil: the default) and the
    /// models a client may pick.
    case history(messages: [StoredMessage], model: String?, models: [String])
    /// The next piece of the answer to message `id`.
    case delta(id: String, text: String)
    /// The answer to message `id` is complete.
    case done(id: String, usage: TokenUsage?, model: String?)
    /// Message `id` (nil: no particular message) got no answer, and why.
    case error(id: String?, message: String)

    /// The frames that show one part of the answer to message `id`. `streamed`: whether deltas of
    /// this answer went out already (if not, a final answer goes out as one delta, then `done`).
    static func frames(for part: AnswerPart, id: String, streamed: Bool) -> [WebChatFrame] {
        switch part {
        case .delta(let text): [.delta(id: id, text: text)]
        case .sentence: []
        case .final(let reply) where streamed: [.done(id: id, usage: reply.usage, model: reply.model)]
        case .final(let reply): [.delta(id: id, text: markdown(of: reply)), .done(id: id, usage: reply.usage, model: reply.model)]
        case .failure(let reply, _), .notice(let reply, _):
            [.error(id: id, message: reply.text.isEmpty ? "The message was not answered." : reply.text)]
        case .cancelled: [.error(id: id, message: "Stopped before the answer was finished.")]
        }
    }

    /// The reply's text, with the hub's own pictures (`/media/…`) after it as Markdown images,
    /// which the page shows inline. Pictures from anywhere else are not shown.
    static func markdown(of reply: Reply) -> String {
        var text = reply.text
        for case .image(.hosted(let path, _, _)) in reply.parts {
            text += "\n\n![picture](\(path))"
        }
        return text
    }

    /// The frame as one line of JSON.
    public var json: String {
        // Encoding a frame of these types cannot fail (strings, numbers, nulls, arrays of them).
        let data = (try? JSONEncoder().encode(self)) ?? Data(#"{"type":"error","id":null,"message":"unencodable frame"}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-22T05:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

extension WebChatFrame: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type, messages, model, models, id, text, usage, message
    }

    private struct Message: Encodable {
        var role: String
        var content: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case role, content
            case createdAt = "created_at"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .history(let messages, let model, let models):
            try container.encode("history", forKey: .type)
            try container.encode(
                messages.map { Message(role: $0.role.rawValue, content: $0.content, createdAt: Self.timestamp($0.createdAt)) }, forKey: .messages)
            try container.encode(model, forKey: .model)  // null: the default model
            try container.encode(models, forKey: .models)
        case .delta(let id, let text):
            try container.encode("delta", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(text, forKey: .text)
        case .done(let id, let usage, let model):
            try container.encode("done", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(usage.map(OpenAIUsage.init), forKey: .usage)  // OpenAI's usage object
            try container.encode(model, forKey: .model)
        case .error(let id, let message):
            try container.encode("error", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(message, forKey: .message)
        }
    }
}

/// A message a client sends: `{"type":"message","id":"c1","text":"hello"}`.
public struct WebChatInbound: Sendable, Hashable {
    /// The client's id for the message (echoed in the answer's frames); made up when absent.
    public var id: String
    public var text: String

    /// Why a frame was refused; the text goes back to the client in an `error` frame.
    public struct Refusal: Error, Sendable, Hashable {
        public let id: String?
        public let message: String
    }

    /// A client frame or REST body as it arrives: every field optional and loosely typed, so that
    /// each mistake gets its own refusal. Package-visible for the fuzz target.
    package struct Wire: Decodable {
        /// A JSON value of which only its kind matters here.
        enum Field: Decodable {
            case string(String), integer(Int64), boolean(Bool), null, other

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if container.decodeNil() {
                    self = .null
                } else if let text = try? container.decode(String.self) {
                    self = .string(text)
                } else if let flag = try? container.decode(Bool.self) {
                    self = .boolean(flag)
                } else if let number = try? container.decode(Int64.self) {
                    self = .integer(number)
                } else {
                    self = .other
                }
            }

            var string: String? {
                if case .string(let text) = self { text } else { nil }
            }
        }

        var type: Field?
        var id: Field?
        var text: Field?
        var message: Field?
        var clientID: Field?
        var stream: Field?

        package enum CodingKeys: String, CodingKey {
            case type, id, text, message, stream
            case clientID = "client_id"
        }

        /// `bytes` decoded; a refusal when they are not a JSON object.
        package static func decode(_ bytes: some Collection<UInt8>) throws(Refusal) -> Wire {
            do {
                return try JSONDecoder().decode(Wire.self, from: Data(bytes))
            } catch {
                throw Refusal(id: nil, message: "frames must be JSON objects")
            }
        }
    }

    /// Reads a client frame, refusing anything but a well-formed message of at most `maxBytes`.
    public init(frame: String, maxBytes: Int, makeID: () -> String) throws(Refusal) {
        try self.init(wire: try Wire.decode(Array(frame.utf8)), textKey: .text, requiringType: true, maxBytes: maxBytes, makeID: makeID)
    }

    /// Reads a decoded message: a WebSocket frame (`type` required, the text in `text`) or a REST
    /// body (no `type`, the text in `message`), with the same checks.
    package init(wire: Wire, textKey: Wire.CodingKeys, requiringType: Bool, maxBytes: Int, makeID: () -> String) throws(Refusal) {
        var id: String?
        switch wire.id {
        case nil, .null?: id = nil
        case .string(let text)?: id = text
        case .integer(let number)?: id = String(number)
        case .boolean?, .other?: throw Refusal(id: nil, message: "\"id\" must be a string")
        }
        if let given = id, given.isEmpty || given.utf8.count > 128 {
            throw Refusal(id: nil, message: "\"id\" must be 1 to 128 bytes long")
        }
        if requiringType {
            guard let type = wire.type?.string else { throw Refusal(id: id, message: "\"type\" missing") }
            guard type == "message" else { throw Refusal(id: id, message: "unknown frame type \"\(type)\"; send {\"type\":\"message\",\"id\",\"text\"}") }
        }
        guard let text = (textKey == .text ? wire.text : wire.message)?.string else {
            throw Refusal(id: id, message: "\"\(textKey.rawValue)\" must be a string")
        }
        guard text.utf8.count <= maxBytes else { throw Refusal(id: id, message: "message too long: at most \(maxBytes) bytes") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw Refusal(id: id, message: "message is empty") }
        self.id = id ?? makeID()
        self.text = text
    }
}
