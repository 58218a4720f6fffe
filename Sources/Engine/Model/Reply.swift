// SPDX-License-Identifier: Apache-2.0

/// One part of a reply.
public enum ReplyPart: Sendable, Hashable {
    /// A chunk of text. Each text part is sent as its own message on doors that have a length limit.
    case text(String)
    /// Quote (reply to) the message with this platform id.
    case quote(String)
    /// Mention (@) this user.
    case mention(String)
    /// Voice.
    case audio(bytes: [UInt8], format: String)
    /// A picture.
    case image(MediaReference)
}

/// What the engine answers, for any door to render in its own way.
///
/// The parts come in order; a door that splits messages puts the leading ``ReplyPart/quote(_:)`` and
/// ``ReplyPart/mention(_:)`` on its first message. Chat doors show every kind as a message; doors
/// with a structured protocol (the web chat) show ``Kind/notice`` and ``Kind/failure`` as errors.
public struct Reply: Sendable, Hashable {
    /// What a reply is.
    public enum Kind: Sendable, Hashable {
        /// The answer to the message (from the model or a command).
        case answer
        /// The message was not taken (busy, rate limited); the text says so.
        case notice
        /// The message was taken but could not be answered (every provider failed, none configured,
        /// an internal error); the text apologises.
        case failure
    }

    public var parts: [ReplyPart]
    public var kind: Kind
    /// The model that wrote the answer, when one did.
    public var model: String?
    /// Token counts of the answer, when the provider reported them.
    public var usage: TokenUsage?
    /// Why the model stopped (`stop`, `length`, …), when a model wrote the answer.
    public var finishReason: String?

    public init(parts: [ReplyPart], kind: Kind = .answer, model: String? = nil, usage: TokenUsage? = nil, finishReason: String? = nil) {
        self.finishReason = finishReason
        self.parts = parts
        self.kind = kind
        self.model = model
        self.usage = usage
    }

    /// A reply of plain text.
    public static func text(_ text: String, kind: Kind = .answer) -> Reply {
        Reply(parts: [.text(text)], kind: kind)
    }

    /// The text parts joined.
    public var text: String {
        var text = ""
        for case .text(let part) in parts { text += part }
        return text
    }
}
