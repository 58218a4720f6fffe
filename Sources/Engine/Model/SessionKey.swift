// SPDX-License-Identifier: Apache-2.0

/// Which conversation an event belongs to: platform + bot + scope (+ user).
///
/// Private chats have one session per user. Group chats have one session per user per group by
/// default, or one shared session per group (``SessionScope/perGroup``).
public struct SessionKey: Sendable, Hashable, CustomStringConvertible {
    /// How group chats map to sessions.
    public enum SessionScope: String, Sendable {
        /// Each member of a group has their own conversation with the bot.
        case perUser = "per_user"
        /// The whole group shares one conversation.
        case perGroup = "per_group"
    }

    public var platform: Platform
    public var botID: String
    /// The group, nil for private chats.
    public var group: String?
    /// The user, nil for a shared group session.
    public var user: String?

    public init(platform: Platform, botID: String, group: String?, user: String?) {
        self.platform = platform
        self.botID = botID
        self.group = group
        self.user = user
    }

    /// The session an event belongs to under `scope`.
    public init(event: ConversationEvent, scope: SessionScope) {
        switch event.scope {
        case .private(let user):
            self.init(platform: event.platform, botID: event.botID, group: nil, user: user)
        case .group(let group, let user):
            self.init(platform: event.platform, botID: event.botID, group: group, user: scope == .perUser ? user : nil)
        }
    }

    /// The stable text form used as the storage key, e.g. `qq:3847291056:g736251904:u1049382716`.
    public var description: String {
        var key = "\(platform.rawValue):\(botID)"
        if let group { key += ":g\(group)" }
        if let user { key += ":u\(user)" }
        return key
    }
}
