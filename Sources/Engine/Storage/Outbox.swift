// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB

/// A reply that could not be delivered yet, kept until its bot comes back.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    /// Door-specific payload (for OneBot, the action as JSON).
    public var payload: String
    public var createdAt: Date
    public var attempts: Int
}

/// What the outbox holds for one bot: how many replies wait, and since when.
public struct OutboxBacklog: Sendable, Hashable {
    public var bot: String
    public var pending: Int
    /// When the oldest waiting reply was kept.
    public var oldest: Date
}

/// Replies waiting for a disconnected bot, kept durably in SQLite.
public struct Outbox: Sendable {
    private let database: HubDatabase
    /// Entries older than this are dropped instead of delivered (a stale answer is worse than none).
    public var maxAge: TimeInterval
    /// Most entries kept per bot; the oldest go first.
    public var maxPerBot: Int

    public init(database: HubDatabase, maxAge: TimeInterval = 86_400, maxPerBot: Int = 1000) {
        self.database = database
        self.maxAge = maxAge
        self.maxPerBot = maxPerBot
    }

    /// Keeps `payload` for `bot` on `platform`.
    public func enqueue(platform: Platform, bot: String, payload: String) async throws {
        let maxPerBot = self.maxPerBot
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO outbox (platform, bot_id, payload, created_at) VALUES (?, ?, ?, ?)",
                arguments: [platform.rawValue, bot, payload, Date().timeIntervalSince1970])
            try db.execute(
                sql: """
                    DELETE FROM outbox WHERE platform = ? AND bot_id = ? AND id NOT IN
                    (SELECT id FROM outbox WHERE platform = ? AND bot_id = ? ORDER BY id DESC LIMIT ?)
                    """,
                arguments: [platform.rawValue, bot, platform.rawValue, bot, maxPerBot])
        }
    }

    /// The entries waiting for `bot`, oldest first; expired ones are removed.
    public func pending(platform: Platform, bot: String, limit: Int = 100) async throws -> [OutboxEntry] {
        let cutoff = Date().timeIntervalSince1970 - maxAge
        return try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE created_at < ?", arguments: [cutoff])
            return try Row.fetchAll(
                db, sql: "SELECT id, payload, created_at, attempts FROM outbox WHERE platform = ? AND bot_id = ? ORDER BY id LIMIT ?",
                arguments: [platform.rawValue, bot, limit]
            ).map { row in
                OutboxEntry(id: row["id"], payload: row["payload"], createdAt: Date(timeIntervalSince1970: row["created_at"]), attempts: row["attempts"])
            }
        }
    }

    /// Removes a delivered entry.
    public func remove(_ id: Int64) async throws {
        try await database.pool.write { db in try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [id]) }
    }

    /// Counts a failed attempt; entries that failed `maxAttempts` times are dropped.
    public func recordFailure(_ id: Int64, maxAttempts: Int = 5) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM outbox WHERE id = ? AND attempts >= ?", arguments: [id, maxAttempts])
        }
    }

    /// Entries waiting, over all bots.
    public func count() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// The replies waiting on `platform`, per bot (entries past ``maxAge`` are not counted: they
    /// will be dropped, not delivered); at most `limit` bots, those with the most waiting first.
    public func backlog(platform: Platform, limit: Int = 1000) async throws -> [OutboxBacklog] {
        let cutoff = Date().timeIntervalSince1970 - maxAge
        return try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT bot_id, COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox
                    WHERE platform = ? AND created_at >= ? GROUP BY bot_id ORDER BY pending DESC, bot_id LIMIT ?
                    """,
                arguments: [platform.rawValue, cutoff, limit]
            ).map { row in
                OutboxBacklog(bot: row["bot_id"], pending: row["pending"], oldest: Date(timeIntervalSince1970: row["oldest"]))
            }
        }
    }
}
