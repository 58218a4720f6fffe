// SPDX-License-Identifier: Apache-2.0

/// The door a conversation came through.
public enum Platform: String, Sendable, Hashable, Codable, CaseIterable {
    /// QQ, through a OneBot 11 implementation.
    case qq
    /// The hub's web chat page.
    case web
    /// A live voice session.
    case voice
    /// A program calling the OpenAI-compatible API (stateless: no session history).
    case api
}
