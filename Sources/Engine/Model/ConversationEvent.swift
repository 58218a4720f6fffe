// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A message that reached the hub through any door, in one platform-neutral shape.
///
/// Every door turns its traffic into this and hands it to ``ConversationEngine``; the engine never
/// sees a OneBot frame or a web frame.
///
/// ```swift
/// let event = ConversationEvent(
///     id: "qq:3847291056:private:1049382716:-1834013271:1717000000",
///     platform: .qq, botID: "3847291056", scope: .private(user: "1049382716"),
///     sender: Sender(id: "1049382716", name: "Bob"), content: [.text("hello")],
///     platformMessageID: "-1834013271")
/// ```
public struct ConversationEvent: Sendable, Hashable {
    /// A key unique to this message on its platform, the same however often it is delivered;
    /// the engine de-duplicates on it.
    public var id: String
    /// The door it came through.
    public var platform: Platform
    /// The bot account that received it (the OneBot `self_id`, or a door-specific name).
    public var botID: String
    /// Private or group, and who wrote it.
    public var scope: ConversationScope
    /// The author.
    public var sender: Sender
    /// The content, in order.
    public var content: [Segment]
    /// The platform's id for this message, used to quote it in the reply.
    public var platformMessageID: String?
    /// When the hub received it.
    public var receivedAt: Date

    public init(
        id: String, platform: Platform, botID: String, scope: ConversationScope, sender: Sender,
        content: [Segment], platformMessageID: String? = nil, receivedAt: Date = Date()
    ) {
        self.id = id
        self.platform = platform
        self.botID = botID
        self.scope = scope
        self.sender = sender
        self.content = content
        self.platformMessageID = platformMessageID
        self.receivedAt = receivedAt
    }
}
