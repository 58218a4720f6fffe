// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB

/// The hub's SQLite database: one `DatabasePool` (WAL) per file, schema owned by migrations.
///
/// Migrations are append-only: a shipped migration is never edited; a change is a new one.
public struct HubDatabase: Sendable {
    /// The pool; one per file per process.
    public let pool: DatabasePool
    /// The file's path.
    public let path: String

    /// Opens (creating folders and file as needed) the database at `path`. Does not migrate.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Statement journals (an upsert inside a savepoint needs one) in memory, not as a file
            // created and unlinked in the temp directory: 6 system calls each, every ~18 replies.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
    }

    /// Brings the schema up to date.
    public func migrate() throws {
        try Self.migrator.migrate(pool)
    }

    /// The identifiers of the migrations applied so far.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedIdentifiers(db).sorted() }
    }

    /// Every migration, in order.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-conversations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE conversations (
                        key TEXT PRIMARY KEY NOT NULL,
                        platform TEXT NOT NULL,
                        bot_id TEXT NOT NULL,
                        group_id TEXT,
                        user_id TEXT,
                        model TEXT,
                        persona TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        conversation_key TEXT NOT NULL REFERENCES conversations(key) ON DELETE CASCADE,
                        role TEXT NOT NULL,
                        content TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX messages_by_conversation ON messages(conversation_key, id);
                    CREATE TABLE inbox (
                        event_key TEXT PRIMARY KEY NOT NULL,
                        received_at REAL NOT NULL
                    );
                    CREATE INDEX inbox_by_time ON inbox(received_at);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        platform TEXT NOT NULL,
                        bot_id TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX outbox_by_bot ON outbox(platform, bot_id, id);
                    """)
        }
        migrator.registerMigration("v2-usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE usage (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        provider TEXT NOT NULL,
                        model TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        prompt_tokens INTEGER NOT NULL DEFAULT 0,
                        completion_tokens INTEGER NOT NULL DEFAULT 0,
                        cost REAL NOT NULL DEFAULT 0,
                        latency_ms REAL NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX usage_by_time ON usage(created_at);
                    """)
        }
        migrator.registerMigration("v3-durable-inbox") { db in
            // Keys recorded before this migration belong to answered events.
            try db.execute(
                sql: """
                    ALTER TABLE inbox ADD COLUMN state TEXT NOT NULL DEFAULT 'answered';
                    ALTER TABLE inbox ADD COLUMN outcome TEXT;
                    ALTER TABLE inbox ADD COLUMN payload TEXT;
                    ALTER TABLE inbox ADD COLUMN reply TEXT;
                    CREATE INDEX inbox_open ON inbox(state, received_at) WHERE state IN ('received', 'answering', 'replying');
                    """)
        }
        migrator.registerMigration("v4-usage-kinds") { db in
            // Speech attempts join the LLM's in the usage table; rows before this are the LLM's.
            try db.execute(
                sql: """
                    ALTER TABLE usage ADD COLUMN kind TEXT NOT NULL DEFAULT 'llm';
                    ALTER TABLE usage ADD COLUMN quantity REAL NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v5-session-voice") { db in
            // `/voice on`: the session's answers are spoken too.
            try db.execute(sql: "ALTER TABLE conversations ADD COLUMN voice INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6-jobs") { db in
            // Long work (images) as durable jobs; `rank` is the priority as a number (0 high … 2 low).
            try db.execute(
                sql: """
                    CREATE TABLE jobs (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        priority TEXT NOT NULL,
                        rank INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        origin TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        max_attempts INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        queued_at REAL NOT NULL,
                        started_at REAL,
                        finished_at REAL,
                        error TEXT,
                        result TEXT,
                        delivered_at REAL
                    );
                    CREATE INDEX jobs_open ON jobs(state, queued_at) WHERE state IN ('queued', 'running');
                    CREATE INDEX jobs_queued_by_rank ON jobs(rank, queued_at) WHERE state = 'queued';
                    CREATE INDEX jobs_by_finish ON jobs(finished_at) WHERE finished_at IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v7-inbox-without-open-index") { db in
            // Every change of an event's state rewrote an entry of this index: a page written per
            // transaction, two per event when events come one at a time (650 → 600 µs of CPU per
            // event at 1,000 events/s, Benchmarks/README.md). The only readers are the start's
            // replay and expiry, which read `inbox_by_time` instead.
            try db.execute(sql: "DROP INDEX IF EXISTS inbox_open")
        }
        migrator.registerMigration("v8-inbox-rows") { db in
            // The inbox without an index of event keys: an event's later writes address its row
            // (the hub remembers the rows of the events in flight), and the key index, in the keys'
            // order rather than the order of arrival, put every event of a transaction on another
            // of its pages (5.6–9.3 pages per transaction of about ten events).
            try db.execute(
                sql: """
                    CREATE TABLE inbox_rows (
                        id INTEGER PRIMARY KEY,
                        event_key TEXT NOT NULL,
                        received_at REAL NOT NULL,
                        state TEXT NOT NULL,
                        outcome TEXT,
                        payload TEXT,
                        reply TEXT
                    );
                    INSERT INTO inbox_rows (event_key, received_at, state, outcome, payload, reply)
                        SELECT event_key, received_at, state, outcome, payload, reply FROM inbox ORDER BY rowid;
                    DROP TABLE inbox;
                    ALTER TABLE inbox_rows RENAME TO inbox;
                    CREATE INDEX inbox_by_time ON inbox(received_at);
                    """)
        }
        return migrator
    }
}
