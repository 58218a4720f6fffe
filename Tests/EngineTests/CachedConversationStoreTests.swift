// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization
import Testing

@testable import Engine
import GRDB

@Suite struct CachedConversationStoreTests {
    static let alice = SessionKey(platform: .qq, botID: "1", group: nil, user: "alice")
    static let bob = SessionKey(platform: .qq, botID: "1", group: nil, user: "bob")

    func exchange(_ n: Int) -> [StoredMessage] {
        [StoredMessage(role: .user, content: "q\(n)"), StoredMessage(role: .assistant, content: "a\(n)")]
    }

    @Test func repeatedSnapshotsReadTheStoreOnceAndSeeAppends() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let base = CountingStore(SQLiteConversationStore(database: database))
        let store = CachedConversationStore(base: base)
        try await store.append(exchange(1), to: Self.alice)
        #expect(try await store.snapshot(Self.alice, limit: 4).history.map(\.content) == ["q1", "a1"])
        for n in 2...4 {
            try await store.append(exchange(n), to: Self.alice)
            let history = try await store.snapshot(Self.alice, limit: 4).history.map(\.content)
            #expect(history == ["q\(n - 1)", "a\(n - 1)", "q\(n)", "a\(n)"])
        }
        #expect(base.reads.load(ordering: .relaxed) == 1)
        // A smaller window comes from the cache too; a deeper one reloads.
        #expect(try await store.snapshot(Self.alice, limit: 2).history.map(\.content) == ["q4", "a4"])
        #expect(base.reads.load(ordering: .relaxed) == 1)
        #expect(try await store.snapshot(Self.alice, limit: 8).history.count == 8)
        #expect(base.reads.load(ordering: .relaxed) == 2)
        // The cache agrees with the store of record.
        #expect(try await base.inner.snapshot(Self.alice, limit: 8) == store.snapshot(Self.alice, limit: 8))
    }

    @Test func resetAndSettingsGoThroughToTheStoreAndTheCache() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let base = CountingStore(SQLiteConversationStore(database: database))
        let store = CachedConversationStore(base: base)
        try await store.append(exchange(1), to: Self.alice)
        _ = try await store.snapshot(Self.alice, limit: 10)
        try await store.updateSettings(Self.alice) { $0.persona = "pirate" }
        try await store.reset(Self.alice)
        let cached = try await store.snapshot(Self.alice, limit: 10)
        #expect(cached.history.isEmpty)
        #expect(cached.settings.persona == "pirate")
        #expect(try await base.inner.snapshot(Self.alice, limit: 10) == cached)
        #expect(base.reads.load(ordering: .relaxed) == 1)
    }

    @Test func capacityEvictsTheOldestSession() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let base = CountingStore(SQLiteConversationStore(database: database))
        let store = CachedConversationStore(base: base, capacity: 1)
        _ = try await store.snapshot(Self.alice, limit: 4)
        _ = try await store.snapshot(Self.bob, limit: 4)
        #expect(store.cachedSessions == 1)
        _ = try await store.snapshot(Self.bob, limit: 4)
        #expect(base.reads.load(ordering: .relaxed) == 2)
        _ = try await store.snapshot(Self.alice, limit: 4)
        #expect(base.reads.load(ordering: .relaxed) == 3)
    }

    @Test func failedWritesLeaveTheCacheAlone() async throws {
        let database = try makeTemporaryDatabase()
        let base = CountingStore(SQLiteConversationStore(database: database))
        let store = CachedConversationStore(base: base)
        try await store.append(exchange(1), to: Self.alice)
        _ = try await store.snapshot(Self.alice, limit: 4)
        try database.pool.close()
        removeTemporaryDatabase(database)
        await #expect(throws: (any Error).self) { try await store.append(exchange(2), to: Self.alice) }
        #expect(try await store.snapshot(Self.alice, limit: 4).history.map(\.content) == ["q1", "a1"])
    }
}
