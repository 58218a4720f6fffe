// SPDX-License-Identifier: Apache-2.0

/// Where a message was written: a one-to-one chat, or a group chat.
public enum ConversationScope: Sendable, Hashable {
    /// A private chat with `user`.
    case `private`(user: String)
    /// A group chat; `user` wrote the message.
    case group(group: String, user: String)

    /// The user who wrote the message.
    public var user: String {
        switch self {
        case .private(let user), .group(_, let user): return user
        }
    }

    /// The group id, nil for a private chat.
    public var group: String? {
        if case .group(let group, _) = self { return group }
        return nil
    }
}
