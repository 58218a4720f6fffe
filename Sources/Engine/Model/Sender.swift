// SPDX-License-Identifier: Apache-2.0

/// Who wrote a message, as far as the door knows.
public struct Sender: Sendable, Hashable {
    /// What the sender may do in a group.
    public enum Role: String, Sendable, Hashable {
        case owner, admin, member
    }

    /// The platform's user id (a QQ number as decimal text).
    public var id: String
    /// A display name (group card, else nickname); may be empty.
    public var name: String
    /// The group role, when known.
    public var role: Role?

    public init(id: String, name: String = "", role: Role? = nil) {
        self.id = id
        self.name = name
        self.role = role
    }
}
