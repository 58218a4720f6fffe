// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Synchronization

/// The embedded conversation store: SQLite through GRDB, writes group-committed.
public struct SQLiteConversationStore: ConversationStore {
    private let database: HubDatabase
    private let writer: WriteBatcher
    private let inboxInserts = InsertCounter()
    private let journal: InboxJournal
    /// How long inbox keys are kept.
    public var inboxRetention: TimeInterval = 86_400

    public init(database: HubDatabase) {
        self.database = database
        self.writer = WriteBatcher(pool: database.pool)
        self.journal = InboxJournal(writer: writer)
    }

    /// The durable inbox in the same file, sharing this store's group commit (and the pruning of
    /// answered events older than ``inboxRetention``).
    public var inbox: SQLiteInbox {
        SQLiteInbox(database: database, writer: writer, journal: journal, prune: inboxInserts, retention: inboxRetention)
    }

    public func snapshot(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot {
        let id = key.description
        return try await database.pool.read { db in
            // Cached statements: the hot path never re-parses SQL.
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT model, persona, voice FROM conversations WHERE key = ?"), arguments: [id])
            let settings = SessionSettings(model: row?["model"], persona: row?["persona"], voice: row?["voice"] ?? false)
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, role, content, created_at FROM messages WHERE conversation_key = ? ORDER BY id DESC LIMIT ?"),
                arguments: [id, max(0, limit)])
            let history = rows.reversed().compactMap { row -> StoredMessage? in
                guard let role = ChatMessage.Role(rawValue: row["role"]) else { return nil }
                return StoredMessage(
                    role: role, content: row["content"], createdAt: Date(timeIntervalSince1970: row["created_at"]), id: row["id"])
            }
            return SessionSnapshot(settings: settings, history: history)
        }
    }

    @discardableResult
    public func append(_ messages: [StoredMessage], to key: SessionKey, answering: InboxReply?) async throws -> [StoredMessage] {
        let id = key.description
        let now = Date().timeIntervalSince1970
        let journal = self.journal
        return try await writer.write { db in
            if let answering {
                let updated = try InboxJournal.update(
                    journal.row(of: answering.eventKey), key: answering.eventKey, in: db,
                    sql: "UPDATE inbox SET state = 'replying', reply = ? WHERE id = ? AND event_key = ?", arguments: [answering.text])
                if !updated {
                    // Not journaled (a REST request whose client waits) or its insert failed.
                    try db.cachedStatement(sql: "INSERT INTO inbox (event_key, received_at, state, reply) VALUES (?, ?, 'replying', ?)")
                        .execute(arguments: [answering.eventKey, answering.receivedAt.timeIntervalSince1970, answering.text])
                    journal.remember(answering.eventKey, row: db.lastInsertedRowID)
                }
            }
            try Self.ensureConversation(db, key: key, now: now)
            let insert = try db.cachedStatement(sql: "INSERT INTO messages (conversation_key, role, content, created_at) VALUES (?, ?, ?, ?)")
            return try messages.map { message in
                try insert.execute(arguments: [id, message.role.rawValue, message.content, message.createdAt.timeIntervalSince1970])
                var stored = message
                stored.id = db.lastInsertedRowID
                return stored
            }
        }
    }

    public func reset(_ key: SessionKey) async throws {
        let id = key.description
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM messages WHERE conversation_key = ?", arguments: [id])
        }
    }

    public func updateSettings(_ key: SessionKey, _ update: @escaping @Sendable (inout SessionSettings) -> Void) async throws {
        let id = key.description
        let now = Date().timeIntervalSince1970
        try await writer.write { db in
            try Self.ensureConversation(db, key: key, now: now)
            let row = try Row.fetchOne(db, sql: "SELECT model, persona, voice FROM conversations WHERE key = ?", arguments: [id])
            var settings = SessionSettings(model: row?["model"], persona: row?["persona"], voice: row?["voice"] ?? false)
            update(&settings)
            try db.execute(
                sql: "UPDATE conversations SET model = ?, persona = ?, voice = ?, updated_at = ? WHERE key = ?",
                arguments: [settings.model, settings.persona, settings.voice, now, id])
        }
    }

    public func inboundKeys(since date: Date) async throws -> [(key: String, receivedAt: Date)] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT event_key, received_at FROM inbox WHERE received_at >= ? ORDER BY received_at",
                arguments: [date.timeIntervalSince1970]
            ).map { row in (key: row["event_key"], receivedAt: Date(timeIntervalSince1970: row["received_at"])) }
        }
    }

    public func isHealthy() async -> Bool {
        (try? await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Creates the session's row when it is new. An existing row is left untouched: rewriting
    /// it on every answer cost a page write per transaction for a time nothing reads
    /// (`updated_at` changes with the settings).
    private static func ensureConversation(_ db: Database, key: SessionKey, now: TimeInterval) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO conversations (key, platform, bot_id, group_id, user_id, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [key.description, key.platform.rawValue, key.botID, key.group, key.user, now, now])
    }
}


/// Counts the inbox's answered records, to prune old ones now and then.
final class InsertCounter: Sendable {
    private let count = Atomic<Int>(0)
    func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
}
