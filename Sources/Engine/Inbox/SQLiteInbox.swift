// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB

/// The durable inbox in the hub's SQLite file (table `inbox`), written through the same group commit
/// as the conversations, so storing an event costs a statement in a shared transaction, not a
/// transaction of its own.
///
/// Get it from ``SQLiteConversationStore/inbox``.
public struct SQLiteInbox: Inbox {
    private let database: HubDatabase
    private let writer: WriteBatcher
    private let journal: InboxJournal
    private let prune: InsertCounter
    /// Answered and expired events are deleted once older than this (every 1,024th answer looks).
    let retention: TimeInterval
    /// The states a restart has to finish, as an SQL list. No index holds them (keeping one cost a
    /// page write per state change); the start reads them by time through `inbox_by_time`.
    private static let openStates = "(" + [InboxState.received, .answering, .replying].map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    init(database: HubDatabase, writer: WriteBatcher, journal: InboxJournal, prune: InsertCounter, retention: TimeInterval) {
        self.database = database
        self.writer = writer
        self.journal = journal
        self.prune = prune
        self.retention = retention
    }

    /// Stores the event (a key this process holds open already is left as it is). The insert is
    /// batched with the other inbox writes of the moment; whether the key was new is not reported.
    public func receive(_ event: ConversationEvent) -> InboxReceipt {
        var payload = [UInt8]()
        event.journal.write(into: &payload)
        return journal.submit(
            .receive(key: event.id, receivedAt: event.receivedAt.timeIntervalSince1970, payload: String(decoding: payload, as: UTF8.self)))
    }

    public func flush() async {
        await journal.flushNow()
    }

    public func markAnswering(_ key: String) {
        journal.enqueue(.answering(key: key))
    }

    public func markAnswered(_ key: String, receivedAt: Date, outcome: InboxOutcome) {
        if prune.next() % 1024 == 0 { journal.enqueue(.prune(before: Date().timeIntervalSince1970 - retention)) }
        journal.commitSoon(.answered(key: key, receivedAt: receivedAt.timeIntervalSince1970, outcome: outcome.rawValue))
    }

    public func open(since date: Date, after: InboxEntry?, limit: Int) async throws -> [InboxEntry] {
        // In the order received (the time each door read the event); the events of one session were
        // read one after another, while their inserts may have been committed in another order.
        let afterTime = after?.receivedAt.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude
        let afterPosition = after?.position ?? 0
        let rows = try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, event_key, received_at, state, payload, reply FROM inbox
                    WHERE state IN \(Self.openStates) AND received_at >= ?
                      AND (received_at > ? OR (received_at = ? AND rowid > ?))
                    ORDER BY received_at, rowid LIMIT ?
                    """,
                arguments: [date.timeIntervalSince1970, afterTime, afterTime, afterPosition, max(0, limit)])
        }
        let entries = rows.map { row in
            let payload: String? = row["payload"]
            var entry = InboxEntry(
                key: row["event_key"], receivedAt: Date(timeIntervalSince1970: row["received_at"]),
                state: InboxState(rawValue: row["state"]) ?? .received,
                event: payload.flatMap { try? JSONValue(parsing: $0) }.flatMap(ConversationEvent.init(journal:)), reply: row["reply"])
            entry.position = row["id"]
            return entry
        }
        // Their answers (replayed or recorded as dropped) go to these rows.
        journal.remember(entries)
        return entries
    }

    public func expireOpen(before date: Date) async throws -> [String] {
        let cutoff = date.timeIntervalSince1970
        return try await writer.write { db in
            let keys = try String.fetchAll(
                db, sql: "SELECT event_key FROM inbox WHERE state IN \(Self.openStates) AND received_at < ? ORDER BY received_at, rowid",
                arguments: [cutoff])
            try db.execute(
                sql: "UPDATE inbox SET state = 'expired', payload = NULL WHERE state IN \(Self.openStates) AND received_at < ?",
                arguments: [cutoff])
            return keys
        }
    }

    /// The state of one event (its latest row); nil when its key is not in the inbox. No index
    /// holds the keys, so this reads the whole inbox: for tests and tools, not for the hot path.
    public func state(of key: String) async throws -> InboxState? {
        try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM inbox WHERE event_key = ? ORDER BY rowid DESC LIMIT 1", arguments: [key])
                .flatMap(InboxState.init(rawValue:))
        }
    }

    public func counts() async throws -> [InboxState: Int] {
        try await database.pool.read { db in
            var counts = [InboxState: Int]()
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM inbox GROUP BY state") {
                if let state = InboxState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }
}
