// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Testing

@testable import Engine

@Suite struct SQLiteConversationStoreTests {
    static let alice = SessionKey(platform: .qq, botID: "3847291056", group: nil, user: "1049382716")
    static let groupShared = SessionKey(platform: .qq, botID: "3847291056", group: "736251904", user: nil)
    static let groupAlice = SessionKey(platform: .qq, botID: "3847291056", group: "736251904", user: "1049382716")

    private func turn(_ n: Int, at time: TimeInterval = 1_700_000_000) -> [StoredMessage] {
        [
            StoredMessage(role: .user, content: "question \(n)", createdAt: Date(timeIntervalSince1970: time + Double(n))),
            StoredMessage(role: .assistant, content: "answer \(n)", createdAt: Date(timeIntervalSince1970: time + Double(n) + 0.5)),
        ]
    }

    @Test func migrations() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-engine-tests-\(UUID().uuidString)")
        // Missing folders are created.
        let database = try HubDatabase(path: folder.appendingPathComponent("nested/dir/hub.sqlite").path)
        defer {
            try? database.pool.close()
            try? FileManager.default.removeItem(at: folder)
        }
        #expect(try database.appliedMigrations() == [])
        try database.migrate()
        #expect(try database.appliedMigrations() == ["v1-conversations", "v2-usage", "v3-durable-inbox", "v4-usage-kinds", "v5-session-voice", "v6-jobs", "v7-inbox-without-open-index", "v8-inbox-rows"])
        // Migrating again is a no-op.
        try database.migrate()
        #expect(try database.appliedMigrations() == ["v1-conversations", "v2-usage", "v3-durable-inbox", "v4-usage-kinds", "v5-session-voice", "v6-jobs", "v7-inbox-without-open-index", "v8-inbox-rows"])
        let tables = try database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        #expect(Set(tables).isSuperset(of: ["conversations", "messages", "inbox", "outbox"]))
        let journal = try database.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    /// An inbox written before `v8-inbox-rows` (keyed by event key) keeps every row, in order, and a
    /// start after the upgrade finds the open ones and records their answers on those rows.
    @Test func theInboxKeepsItsRowsThroughTheUpgrade() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-engine-tests-\(UUID().uuidString)")
        let database = try HubDatabase(path: folder.appendingPathComponent("hub.sqlite").path)
        defer {
            try? database.pool.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try HubDatabase.migrator.migrate(database.pool, upTo: "v7-inbox-without-open-index")
        let now = Date().timeIntervalSince1970
        try await database.pool.write { db in
            for (key, offset, state) in [("qq:1:a", 3.0, "answered"), ("qq:1:b", 2.0, "received"), ("qq:1:c", 1.0, "replying")] {
                try db.execute(
                    sql: "INSERT INTO inbox (event_key, received_at, state, reply) VALUES (?, ?, ?, ?)",
                    arguments: [key, now - offset, state, state == "replying" ? "stored answer" : nil])
            }
        }
        try database.migrate()
        let store = SQLiteConversationStore(database: database)
        let inbox = store.inbox
        #expect(try await inbox.counts() == [.answered: 1, .received: 1, .replying: 1])
        let open = try await inbox.open(since: Date(timeIntervalSince1970: now - 60), after: nil, limit: 10)
        #expect(open.map(\.key) == ["qq:1:b", "qq:1:c"])  // in the order received
        #expect(open.last?.reply == "stored answer")
        for entry in open { inbox.markAnswered(entry.key, receivedAt: entry.receivedAt, outcome: .sent) }
        await inbox.flush()
        #expect(try await inbox.counts() == [.answered: 3])
        #expect(try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") } == 3)
    }

    @Test func appendAndSnapshotKeepOrderAndLimit() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        for n in 1...3 { try await store.append(turn(n), to: Self.alice) }

        let all = try await store.snapshot(Self.alice, limit: 100)
        #expect(all.history.map(\.content) == ["question 1", "answer 1", "question 2", "answer 2", "question 3", "answer 3"])
        #expect(all.history.map(\.role) == [.user, .assistant, .user, .assistant, .user, .assistant])
        #expect(all.history.first?.createdAt == Date(timeIntervalSince1970: 1_700_000_001))
        #expect(all.settings == SessionSettings())

        // The most recent `limit` messages, still oldest first.
        let recent = try await store.snapshot(Self.alice, limit: 3)
        #expect(recent.history.map(\.content) == ["answer 2", "question 3", "answer 3"])
        #expect(try await store.snapshot(Self.alice, limit: 0).history.isEmpty)
        #expect(try await store.snapshot(Self.alice, limit: -5).history.isEmpty)
    }

    @Test func sessionsAreSeparate() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        try await store.append(turn(1), to: Self.alice)
        try await store.append(turn(2), to: Self.groupShared)
        try await store.append(turn(3), to: Self.groupAlice)
        #expect(try await store.snapshot(Self.alice, limit: 10).history.map(\.content) == ["question 1", "answer 1"])
        #expect(try await store.snapshot(Self.groupShared, limit: 10).history.map(\.content) == ["question 2", "answer 2"])
        #expect(try await store.snapshot(Self.groupAlice, limit: 10).history.map(\.content) == ["question 3", "answer 3"])
        let unknown = SessionKey(platform: .web, botID: "web", group: nil, user: "nobody")
        #expect(try await store.snapshot(unknown, limit: 10) == SessionSnapshot(settings: SessionSettings(), history: []))
    }

    @Test func concurrentAppendsAreAllStored() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<100 {
                group.addTask { try await store.append(self.turn(n), to: n % 2 == 0 ? Self.alice : Self.groupAlice) }
            }
            try await group.waitForAll()
        }
        let history = try await store.snapshot(Self.alice, limit: 1000).history
        #expect(history.count == 100)
        // Each user message is directly followed by its own answer.
        for pair in stride(from: 0, to: history.count, by: 2) {
            #expect(history[pair].content.replacingOccurrences(of: "question", with: "answer") == history[pair + 1].content)
        }
    }

    @Test func resetKeepsSettings() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        try await store.append(turn(1), to: Self.alice)
        try await store.append(turn(1), to: Self.groupAlice)
        try await store.updateSettings(Self.alice) { $0.model = "deepseek-chat" }
        try await store.reset(Self.alice)
        let snapshot = try await store.snapshot(Self.alice, limit: 10)
        #expect(snapshot.history.isEmpty)
        #expect(snapshot.settings.model == "deepseek-chat")
        // Other sessions are untouched.
        #expect(try await store.snapshot(Self.groupAlice, limit: 10).history.count == 2)
        // Resetting an unknown session is fine.
        try await store.reset(SessionKey(platform: .web, botID: "w", group: nil, user: "u"))
    }

    @Test func updateSettings() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        // Creates the session when needed.
        try await store.updateSettings(Self.groupShared) { $0.persona = "You are a pirate." }
        try await store.updateSettings(Self.groupShared) { $0.model = "qwen" }
        #expect(try await store.snapshot(Self.groupShared, limit: 0).settings == SessionSettings(model: "qwen", persona: "You are a pirate."))
        // The update sees the current settings.
        try await store.updateSettings(Self.groupShared) { settings in
            settings.persona = (settings.persona ?? "") + " Arr."
            settings.model = nil
        }
        #expect(try await store.snapshot(Self.groupShared, limit: 0).settings == SessionSettings(model: nil, persona: "You are a pirate. Arr."))
        #expect(try await store.snapshot(Self.groupAlice, limit: 0).settings == SessionSettings())
        let columns = try await database.pool.read { db -> [String?] in
            let row = try Row.fetchOne(
                db, sql: "SELECT platform, bot_id, group_id, user_id FROM conversations WHERE key = ?",
                arguments: [Self.groupShared.description])
            return [row?["platform"], row?["bot_id"], row?["group_id"], row?["user_id"]]
        }
        #expect(columns == ["qq", "3847291056", "736251904", nil])
    }

    /// Answered and expired events older than the retention are deleted now and then; open ones
    /// stay whatever their age (the next start expires or answers them).
    @Test func theInboxIsPrunedOfOldAnsweredEvents() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        var store = SQLiteConversationStore(database: database)
        store.inboxRetention = 60
        let inbox = store.inbox
        let old = Date().addingTimeInterval(-3600)
        inbox.markAnswered("qq:1:old-answered", receivedAt: old, outcome: .sent)
        let open = ConversationEvent(
            id: "qq:1:old-open", platform: .qq, botID: "1", scope: .private(user: "2"), sender: Sender(id: "2"), content: [.text("x")],
            receivedAt: old)
        try await inbox.receive(open).stored()
        for index in 0..<1100 { inbox.markAnswered("qq:1:new-\(index)", receivedAt: Date(), outcome: .sent) }
        // Written within the journal's lingering time.
        try await eventually { try await inbox.counts()[.answered] == 1100 }
        #expect(try await inbox.state(of: "qq:1:old-answered") == nil)
        #expect(try await inbox.state(of: "qq:1:old-open") == .received)
        #expect(try await inbox.counts()[.answered] == 1100)
    }

    @Test func inboundKeysSince() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        store.inbox.markAnswered("c", receivedAt: base.addingTimeInterval(30), outcome: .sent)
        store.inbox.markAnswered("a", receivedAt: base.addingTimeInterval(10), outcome: .sent)
        store.inbox.markAnswered("b", receivedAt: base.addingTimeInterval(20), outcome: .sent)
        await store.inbox.flush()
        let all = try await store.inboundKeys(since: base)
        #expect(all.map(\.key) == ["a", "b", "c"])
        #expect(all.map(\.receivedAt) == [10, 20, 30].map { base.addingTimeInterval($0) })
        #expect(try await store.inboundKeys(since: base.addingTimeInterval(20)).map(\.key) == ["b", "c"])
        #expect(try await store.inboundKeys(since: base.addingTimeInterval(31)).isEmpty)
    }

    @Test func dataSurvivesReopening() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        do {
            let store = SQLiteConversationStore(database: database)
            try await store.append(turn(1), to: Self.alice)
            try await store.updateSettings(Self.alice) { $0.persona = "terse" }
            store.inbox.markAnswered("qq:1:e1", receivedAt: Date(timeIntervalSince1970: 1_700_000_000), outcome: .sent)
            await store.inbox.flush()
            try database.pool.close()
        }
        let reopened = try HubDatabase(path: database.path)
        defer { try? reopened.pool.close() }
        try reopened.migrate()
        #expect(try reopened.appliedMigrations() == ["v1-conversations", "v2-usage", "v3-durable-inbox", "v4-usage-kinds", "v5-session-voice", "v6-jobs", "v7-inbox-without-open-index", "v8-inbox-rows"])
        let store = SQLiteConversationStore(database: reopened)
        let snapshot = try await store.snapshot(Self.alice, limit: 10)
        #expect(snapshot.history.map(\.content) == ["question 1", "answer 1"])
        #expect(snapshot.settings.persona == "terse")
        #expect(try await store.inbox.state(of: "qq:1:e1") == .answered)
        #expect(try await store.inboundKeys(since: .distantPast).map(\.key) == ["qq:1:e1"])
    }

    @Test func isHealthy() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let store = SQLiteConversationStore(database: database)
        #expect(await store.isHealthy())
        try database.pool.close()
        #expect(await !store.isHealthy())
    }
}
