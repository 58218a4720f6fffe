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
        case .final(let reply): [.delta(id: id, text: reply.text), .done(id: id, usage: reply.usage, model: reply.model)]
        case .failure(let reply, _), .notice(let reply, _):
            [.error(id: id, message: reply.text.isEmpty ? "The message was not answered." : reply.text)]
        case .cancelled: [.error(id: id, message: "Stopped before the answer was finished.")]
        }
    }

    /// The frame as one line of JSON.
    public var json: String {
        var out = [UInt8]()
        value.write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    var value: JSONValue {
        switch self {
        case .history(let messages, let model, let models):
            return .object([
                "type": "history",
                "messages": .array(
                    messages.map { message in
                        .object([
                            "role": .string(message.role.rawValue), "content": .string(message.content),
                            "created_at": .string(Self.timestamp(message.createdAt)),
                        ])
                    }),
                "model": model.map(JSONValue.string) ?? .null,
                "models": .array(models.map(JSONValue.string)),
            ])
        case .delta(let id, let text):
            return .object(["type": "delta", "id": .string(id), "text": .string(text)])
        case .done(let id, let usage, let model):
            return .object([
                "type": "done", "id": .string(id), "usage": usage.map(\.json) ?? .null,
                "model": model.map(JSONValue.string) ?? .null,
            ])
        case .error(let id, let message):
            return .object(["type": "error", "id": id.map(JSONValue.string) ?? .null, "message": .string(message)])
        }
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-22T05:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
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

    /// Reads a client frame, refusing anything but a well-formed message of at most `maxBytes`.
    public init(frame: String, maxBytes: Int, makeID: () -> String) throws(Refusal) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: frame)
        } catch {
            throw Refusal(id: nil, message: "frames must be JSON objects: \(error)")
        }
        try self.init(value: value, textKey: "text", requiringType: true, maxBytes: maxBytes, makeID: makeID)
    }

    /// Reads a parsed message: a WebSocket frame (`type` required, the text in `text`) or a REST
    /// body (no `type`, the text in `message`), with the same checks.
    init(value: JSONValue, textKey: String, requiringType: Bool, maxBytes: Int, makeID: () -> String) throws(Refusal) {
        guard value.objectValue != nil else { throw Refusal(id: nil, message: "frames must be JSON objects") }
        var id: String?
        switch value["id"] {
        case nil, .null?: id = nil
        case .string(let text)?: id = text
        case .int(let number)?: id = String(number)
        default: throw Refusal(id: nil, message: "\"id\" must be a string")
        }
        if let given = id, given.isEmpty || given.utf8.count > 128 {
            throw Refusal(id: nil, message: "\"id\" must be 1 to 128 bytes long")
        }
        if requiringType {
            guard let type = value["type"]?.stringValue else { throw Refusal(id: id, message: "\"type\" missing") }
            guard type == "message" else { throw Refusal(id: id, message: "unknown frame type \"\(type)\"; send {\"type\":\"message\",\"id\",\"text\"}") }
        }
        guard let text = value[textKey]?.stringValue else { throw Refusal(id: id, message: "\"\(textKey)\" must be a string") }
        guard text.utf8.count <= maxBytes else { throw Refusal(id: id, message: "message too long: at most \(maxBytes) bytes") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw Refusal(id: id, message: "message is empty") }
        self.id = id ?? makeID()
        self.text = text
    }
}
