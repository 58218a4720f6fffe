// SPDX-License-Identifier: Apache-2.0
import Foundation
import HubTestSupport
import Logging
import Testing

@testable import Engine
import Synchronization

/// The recent-history cache in a real Redis, in front of a real SQLite file.
@Suite(.serialized)
struct RedisHistoryStoreTests {
    static let alice = SessionKey(platform: .qq, botID: "1", group: nil, user: "alice")
    static let logger = Logger(label: "test.history")

    func exchange(_ n: Int) -> [StoredMessage] {
        [StoredMessage(role: .user, content: "q\(n)"), StoredMessage(role: .assistant, content: "a\(n)")]
    }

    /// Runs `body` with a connected client for `url`; the prefix is fresh per call.
    func withRedis(
        _ url: String, _ body: @escaping @Sendable (RedisClient, String) async throws -> Void
    ) async throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.firstBackoff = .milliseconds(20)
        configuration.longestBackoff = .milliseconds(100)
        // These suites check what another process sees, not timeouts: under the whole suite on 2
        // cores a reply once took longer than the default 500 ms, the invalidation failed, and the
        // other process read the stale entry (that path has tests of its own).
        configuration.commandTimeout = .seconds(5)
        configuration.connectTimeout = .seconds(10)
        let client = RedisClient(configuration: configuration, logger: Self.logger)
        try await withTimeLimit(.seconds(30)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                defer { group.cancelAll() }
                for _ in 0..<250 where !client.isUp { try await Task.sleep(for: .milliseconds(20)) }
                try await body(client, "test:\(UUID().uuidString):")
            }
        }
    }

    @Test func readsComeFromRedisAfterTheFirstAndSeeAppends() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await withRedis(try await RedisServer.sharedURL()) { (client: RedisClient, prefix: String) async throws in
            let base = CountingStore(SQLiteConversationStore(database: database))
            let store = RedisHistoryStore(base: base, client: client, prefix: prefix, logger: Self.logger)
            for n in 1...3 { try await store.append(exchange(n), to: Self.alice) }
            let first = try await store.snapshot(Self.alice, limit: 4)
            #expect(first.history.map(\.content) == ["q2", "a2", "q3", "a3"])
            #expect(base.reads.load(ordering: .relaxed) == 1)
            let second = try await store.snapshot(Self.alice, limit: 4)
            #expect(second == first)
            #expect(try await store.snapshot(Self.alice, limit: 2).history.map(\.content) == ["q3", "a3"])
            #expect(try await store.snapshot(Self.alice, limit: 0).history.isEmpty)
            try await store.append(exchange(4), to: Self.alice)
            #expect(try await store.snapshot(Self.alice, limit: 4).history.map(\.content) == ["q3", "a3", "q4", "a4"])
            #expect(base.reads.load(ordering: .relaxed) == 1)
            // A deeper read than cached goes to the store once.
            #expect(try await store.snapshot(Self.alice, limit: 8).history.count == 8)
            #expect(base.reads.load(ordering: .relaxed) == 2)
        }
    }

    @Test func anotherProcessSeesAppendsResetsAndSettings() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await withRedis(try await RedisServer.sharedURL()) { (client: RedisClient, prefix: String) async throws in
            let sqlite = SQLiteConversationStore(database: database)
            let one = RedisHistoryStore(base: CountingStore(sqlite), client: client, prefix: prefix, logger: Self.logger)
            let otherBase = CountingStore(sqlite)
            let other = RedisHistoryStore(base: otherBase, client: client, prefix: prefix, logger: Self.logger)
            try await one.append(exchange(1), to: Self.alice)
            _ = try await one.snapshot(Self.alice, limit: 10)
            try await other.append(exchange(2), to: Self.alice)
            #expect(try await one.snapshot(Self.alice, limit: 10).history.map(\.content) == ["q1", "a1", "q2", "a2"])
            try await other.updateSettings(Self.alice) { $0.model = "big" }
            #expect(try await one.snapshot(Self.alice, limit: 10).settings.model == "big")
            try await other.reset(Self.alice)
            #expect(try await one.snapshot(Self.alice, limit: 10).history.isEmpty)
            #expect(otherBase.reads.load(ordering: .relaxed) == 0)
        }
    }

    @Test func aSlowReaderNeverInstallsAnOldHistory() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await withRedis(try await RedisServer.sharedURL()) { (client: RedisClient, prefix: String) async throws in
            let sqlite = SQLiteConversationStore(database: database)
            try await sqlite.append(exchange(1), to: Self.alice)
            let held = Gate()
            let reached = Gate()
            let slow = RedisHistoryStore(
                base: CountingStore(sqlite) { reached.open(); await held.wait() }, client: client, prefix: prefix, logger: Self.logger)
            let writer = RedisHistoryStore(base: sqlite, client: client, prefix: prefix, logger: Self.logger)
            // The slow reader has read SQLite (one exchange) and is held before filling the cache…
            let reading = Task { try await slow.snapshot(Self.alice, limit: 10) }
            await reached.wait()
            // …while another process appends.
            try await writer.append(exchange(2), to: Self.alice)
            held.open()
            #expect(try await reading.value.history.count == 2)  // what it read, fine for that turn
            // The cache did not take the old history: the next read sees both exchanges.
            #expect(try await writer.snapshot(Self.alice, limit: 10).history.map(\.content) == ["q1", "a1", "q2", "a2"])
        }
    }

    @Test func concurrentAppendsNeverLoseOrRepeatMessages() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await withRedis(try await RedisServer.sharedURL()) { (client: RedisClient, prefix: String) async throws in
            let sqlite = SQLiteConversationStore(database: database)
            let stores = (0..<3).map { _ in RedisHistoryStore(base: sqlite, client: client, prefix: prefix, logger: Self.logger) }
            _ = try await stores[0].snapshot(Self.alice, limit: 200)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<60 {
                    group.addTask {
                        try await stores[n % 3].append(exchange(n), to: Self.alice)
                        _ = try await stores[(n + 1) % 3].snapshot(Self.alice, limit: 200)
                    }
                }
                try await group.waitForAll()
            }
            let cached = try await stores[2].snapshot(Self.alice, limit: 200).history
            let truth = try await sqlite.snapshot(Self.alice, limit: 200).history
            #expect(cached.map(\.id) == truth.map(\.id))
            #expect(cached.count == 120)
        }
    }

    @Test func redisAwayMeansTheStoreAnswersAndStaleEntriesAreDroppedOnReturn() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let server = try await RedisServer.start()
        try await withRedis(server.url) { (client: RedisClient, prefix: String) async throws in
            let base = CountingStore(SQLiteConversationStore(database: database))
            let store = RedisHistoryStore(base: base, client: client, prefix: prefix, logger: Self.logger)
            try await store.append(exchange(1), to: Self.alice)
            _ = try await store.snapshot(Self.alice, limit: 10)  // cached in Redis
            await server.stop(keepingData: true)
            try await Task.sleep(for: .milliseconds(200))
            try await store.append(exchange(2), to: Self.alice)  // Redis cannot hear of it
            try await store.updateSettings(Self.alice) { $0.persona = "pirate" }
            #expect(store.pendingInvalidations == 1)
            #expect(try await store.snapshot(Self.alice, limit: 10).history.count == 4)
            try await server.restart()  // comes back with the old entry
            for _ in 0..<100 where !client.isUp { try await Task.sleep(for: .milliseconds(20)) }
            let after = try await store.snapshot(Self.alice, limit: 10)
            #expect(after.history.map(\.content) == ["q1", "a1", "q2", "a2"])
            #expect(after.settings.persona == "pirate")
            #expect(store.pendingInvalidations == 0)
        }
        await server.stop()
    }

    @Test func messagesSurviveTheCacheEncoding() {
        let message = StoredMessage(
            role: .assistant, content: "tab\there\nnew line\r\n😀 \u{0} end", createdAt: Date(timeIntervalSince1970: 1_763_776_000.125), id: 42)
        #expect(RedisHistoryStore.decodeMessage(RedisHistoryStore.encodeMessage(message)) == message)
        let settings = SessionSettings(model: "m\"x", persona: nil)
        #expect(RedisHistoryStore.decodeSettings(RedisHistoryStore.encodeSettings(settings)) == settings)
    }
}
