// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Testing

@testable import Engine

@Suite struct OutboxTests {
    @Test func enqueueThenPendingOldestFirst() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let outbox = Outbox(database: database)
        for n in 1...5 { try await outbox.enqueue(platform: .qq, bot: "1", payload: #"{"n":\#(n)}"#) }
        try await outbox.enqueue(platform: .qq, bot: "2", payload: "other bot")
        try await outbox.enqueue(platform: .web, bot: "1", payload: "other platform")

        let pending = try await outbox.pending(platform: .qq, bot: "1")
        #expect(pending.map(\.payload) == (1...5).map { #"{"n":\#($0)}"# })
        #expect(pending.allSatisfy { $0.attempts == 0 })
        #expect(pending.map(\.id) == pending.map(\.id).sorted())
        #expect(pending.allSatisfy { abs($0.createdAt.timeIntervalSinceNow) < 60 })
        #expect(try await outbox.pending(platform: .qq, bot: "1", limit: 2).map(\.payload) == [#"{"n":1}"#, #"{"n":2}"#])
        #expect(try await outbox.pending(platform: .qq, bot: "2").map(\.payload) == ["other bot"])
        #expect(try await outbox.pending(platform: .web, bot: "1").map(\.payload) == ["other platform"])
        #expect(try await outbox.pending(platform: .voice, bot: "1").isEmpty)
        #expect(try await outbox.count() == 7)
    }

    @Test func removeDeliveredEntry() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let outbox = Outbox(database: database)
        try await outbox.enqueue(platform: .qq, bot: "1", payload: "a")
        try await outbox.enqueue(platform: .qq, bot: "1", payload: "b")
        let first = try #require(try await outbox.pending(platform: .qq, bot: "1").first)
        try await outbox.remove(first.id)
        #expect(try await outbox.pending(platform: .qq, bot: "1").map(\.payload) == ["b"])
        try await outbox.remove(first.id)  // removing twice is harmless
        #expect(try await outbox.count() == 1)
    }

    @Test func recordFailureDropsAfterMaxAttempts() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let outbox = Outbox(database: database)
        try await outbox.enqueue(platform: .qq, bot: "1", payload: "flaky")
        try await outbox.enqueue(platform: .qq, bot: "1", payload: "fine")
        let id = try #require(try await outbox.pending(platform: .qq, bot: "1").first?.id)
        try await outbox.recordFailure(id, maxAttempts: 3)
        try await outbox.recordFailure(id, maxAttempts: 3)
        let entries = try await outbox.pending(platform: .qq, bot: "1")
        #expect(entries.map(\.payload) == ["flaky", "fine"])
        #expect(entries.map(\.attempts) == [2, 0])
        try await outbox.recordFailure(id, maxAttempts: 3)
        #expect(try await outbox.pending(platform: .qq, bot: "1").map(\.payload) == ["fine"])
    }

    @Test func maxPerBotTrimsTheOldest() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let outbox = Outbox(database: database, maxPerBot: 3)
        try await outbox.enqueue(platform: .qq, bot: "2", payload: "keep me")
        for n in 1...6 { try await outbox.enqueue(platform: .qq, bot: "1", payload: "m\(n)") }
        #expect(try await outbox.pending(platform: .qq, bot: "1").map(\.payload) == ["m4", "m5", "m6"])
        // Another bot's entries are not counted against this one.
        #expect(try await outbox.pending(platform: .qq, bot: "2").map(\.payload) == ["keep me"])
        #expect(try await outbox.count() == 4)
    }

    @Test func expiredEntriesAreRemoved() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let outbox = Outbox(database: database, maxAge: 3600)
        try await outbox.enqueue(platform: .qq, bot: "1", payload: "fresh")
        // Two entries from two hours ago, one for another bot: both are stale.
        let old = Date().timeIntervalSince1970 - 7200
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO outbox (platform, bot_id, payload, created_at) VALUES ('qq', '1', 'stale', ?), ('qq', '9', 'stale too', ?)",
                arguments: [old, old])
        }
        #expect(try await outbox.count() == 3)
        #expect(try await outbox.pending(platform: .qq, bot: "1").map(\.payload) == ["fresh"])
        #expect(try await outbox.count() == 1)
    }
}
