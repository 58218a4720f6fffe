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
/// ``ReplyPart/mention(_:)`` on its first message.
public struct Reply: Sendable, Hashable {
    public var parts: [ReplyPart]

    public init(parts: [ReplyPart]) {
        self.parts = parts
    }

    /// A reply of plain text.
    public static func text(_ text: String) -> Reply {
        Reply(parts: [.text(text)])
    }

    /// The text parts joined.
    public var text: String {
        var text = ""
        for case .text(let part) in parts { text += part }
        return text
    }
}

/// Where the engine sends a reply: a door's connection to the platform.
public protocol ReplySink: Sendable {
    /// Delivers `reply`, answering `event`, and returns the platform ids of the messages sent.
    func deliver(_ reply: Reply, answering event: ConversationEvent) async throws -> [String]
}
