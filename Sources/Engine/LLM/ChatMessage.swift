// SPDX-License-Identifier: Apache-2.0

/// One message of a chat conversation as LLM providers see it.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who says it.
    public enum Role: String, Sendable, Hashable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}
