// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A stored chat message.
public struct StoredMessage: Sendable, Hashable {
    public var role: ChatMessage.Role
    public var content: String
    public var createdAt: Date
    /// The store's id for the message (increasing in the order messages were appended); nil before
    /// it is stored. Caches use it to recognise a message they already hold.
    public var id: Int64?

    public init(role: ChatMessage.Role, content: String, createdAt: Date = Date(), id: Int64? = nil) {
        self.role = role
        self.content = content
        self.createdAt = createdAt
        self.id = id
    }
}

/// Per-session choices a user made with commands.
public struct SessionSettings: Sendable, Hashable {
    /// The model chosen with `/model`, nil for the default.
    public var model: String?
    /// The persona set with `/persona`, nil for the configured one.
    public var persona: String?
    /// Answers are spoken too (`/voice on`).
    public var voice: Bool

    public init(model: String? = nil, persona: String? = nil, voice: Bool = false) {
        self.model = model
        self.persona = persona
        self.voice = voice
    }
}

/// A session's settings and its recent history.
public struct SessionSnapshot: Sendable, Hashable {
    public var settings: SessionSettings
    /// Oldest first.
    public var history: [StoredMessage]

    public init(settings: SessionSettings, history: [StoredMessage]) {
        self.settings = settings
        self.history = history
    }
}

/// Where conversations live: settings and history per ``SessionKey``, plus the recent keys of the
/// inbox for de-duplication (the inbox itself is an ``Inbox``).
///
/// Implementations: ``SQLiteConversationStore`` (the default, a GRDB `DatabasePool`).
public protocol ConversationStore: Sendable {
    /// The session's settings and its most recent `limit` messages, oldest first.
    func snapshot(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot
    /// Appends messages (a user turn and its answer) to the session, creating it if needed, and
    /// moves the event answered to ``InboxState/replying`` with its answer in the inbox, in the same
    /// transaction. Returns the messages as stored, with their ids.
    @discardableResult
    func append(_ messages: [StoredMessage], to key: SessionKey, answering: InboxReply?) async throws -> [StoredMessage]
    /// Forgets the session's history; settings stay.
    func reset(_ key: SessionKey) async throws
    /// Changes the session's settings.
    func updateSettings(_ key: SessionKey, _ update: @escaping @Sendable (inout SessionSettings) -> Void) async throws
    /// Inbound keys recorded since `date` with the time each was received, oldest first, for warming
    /// the in-memory de-duplication after a restart.
    func inboundKeys(since date: Date) async throws -> [(key: String, receivedAt: Date)]
    /// Whether the store can be used.
    func isHealthy() async -> Bool
}

extension ConversationStore {
    /// Appends messages without recording an inbound event.
    @discardableResult
    public func append(_ messages: [StoredMessage], to key: SessionKey) async throws -> [StoredMessage] {
        try await append(messages, to: key, answering: nil)
    }
}
