// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Logging
import Testing

@testable import Engine

@Suite struct WALCheckpointerTests {
    /// Size in bytes of the file at `path` (0 when missing).
    private func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// The writer connection's automatic checkpoint threshold.
    private func autoCheckpoint(_ database: HubDatabase) async throws -> Int {
        try await database.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? -1 }
    }

    /// Writes `count` transactions of one row of about a page each.
    private func write(_ count: Int, to database: HubDatabase) async throws {
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (body TEXT NOT NULL)") }
        let body = String(repeating: "x", count: 3_000)
        for _ in 0..<count {
            try await database.pool.write { db in try db.execute(sql: "INSERT INTO filler (body) VALUES (?)", arguments: [body]) }
        }
    }

    @Test func whileItRunsTheWriterNeverCheckpointsAndItsPassesCopyTheLogIntoTheFile() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let service = WALCheckpointer(database: database, interval: .milliseconds(10), logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        // The service turns the writer's automatic checkpoint off before its first pass.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await autoCheckpoint(database) != 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await autoCheckpoint(database) == 0)

        let before = size(of: database.path)
        try await write(1_500, to: database)  // past SQLite's 1,000-page automatic threshold
        // Its passes copy the rows into the database file (about 4.5 MB of them).
        while size(of: database.path) < before + 4_000_000, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(size(of: database.path) >= before + 4_000_000)

        running.cancel()
        try await running.value
        // Stopped: the writer checkpoints by itself again, and the last pass left nothing behind.
        #expect(try await autoCheckpoint(database) == WALCheckpointer.defaultAutoCheckpoint)
        let queue = try DatabaseQueue(path: database.path)
        let report = try await queue.writeWithoutTransaction(WALCheckpointer.checkpoint)
        #expect(report.logFrames == report.checkpointed)
    }

    @Test func aLogPastTheLimitIsCheckpointedByTheWriterSoTheNextCommitStartsItOver() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let service = WALCheckpointer(database: database, restartAbove: 100, logger: Logger(label: "test"))
        try await service.setAutoCheckpoint(0)
        let queue = try DatabaseQueue(path: database.path)
        // A reader holding an old snapshot keeps the passive checkpoint from copying the newest frames.
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: database.path, configuration: holding)
        try await write(10, to: database)
        let snapshot = try await reader.writeWithoutTransaction { db -> Int in
            try db.execute(sql: "BEGIN DEFERRED")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM filler") ?? 0
        }
        #expect(snapshot == 10)
        try await write(300, to: database)
        let held = try await queue.writeWithoutTransaction(WALCheckpointer.checkpoint)
        #expect(held.logFrames > 300)
        #expect(held.checkpointed < held.logFrames)
        try await reader.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }

        let report = try await service.pass(on: queue)
        #expect(report.logFrames > 100)
        try await write(1, to: database)
        // The writer's checkpoint copied everything, so this commit began the log again.
        let after = try await queue.writeWithoutTransaction(WALCheckpointer.checkpoint)
        #expect(after.logFrames < 10)
    }
}
