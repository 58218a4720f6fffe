// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// Copies the write-ahead log into the database file from a connection of its own, beside the
/// writes instead of inside them.
///
/// SQLite's automatic checkpoint runs in the commit that takes the log past 1,000 pages: that
/// commit copies the pages and waits for two `fsync`s while every write queued behind it waits too.
/// The hub writes several pages per answer, so that happened about eight times a second at 1,000
/// events/s and set the tail of its reply latency (open loop, p90 1.5–2.1 ms → 0.8 ms, p99 5.8–7.1
/// ms → 4.0–4.2 ms without it; Benchmarks/README.md). While this service runs, the writer's
/// automatic checkpoint is off; a passive checkpoint every ``interval`` copies what the log holds
/// without taking the write lock. Under a steady stream of writes a passive checkpoint rarely
/// catches the log's last frame, and SQLite only starts the log over once it has, so when the log
/// passes ``restartAbove`` frames the checkpoint is made by the writer itself, between two
/// transactions, which lets the next one start the log from the beginning. When the service stops
/// it makes a last checkpoint and gives the writer its automatic checkpoint back.
public struct WALCheckpointer: Service {
    /// Automatic checkpoint threshold given back to the writer on stop (SQLite's default).
    static let defaultAutoCheckpoint = 1000

    private let database: HubDatabase
    /// How often the log is copied.
    let interval: Duration
    /// Log length, in frames (pages), past which the writer checkpoints so the log can start over.
    let restartAbove: Int
    private let logger: Logger

    public init(database: HubDatabase, interval: Duration = .milliseconds(100), restartAbove: Int = 8192, logger: Logger) {
        self.database = database
        self.interval = interval
        self.restartAbove = restartAbove
        self.logger = logger
    }

    /// What one `PRAGMA wal_checkpoint` reported.
    struct Report: Equatable {
        /// Frames in the log.
        var logFrames: Int
        /// Frames of them now in the database file.
        var checkpointed: Int
    }

    public func run() async throws {
        let checkpointer = try DatabaseQueue(path: database.path)
        try await setAutoCheckpoint(0)
        // Sleeps until the hub stops; the writes of its last moments are copied below.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                break
            }
            do {
                try await pass(on: checkpointer)
            } catch {
                logger.warning("write-ahead log checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        // In a task of its own: GRDB refuses to start an access for a cancelled task.
        await Task { [self] in
            do {
                _ = try await checkpointer.writeWithoutTransaction(Self.checkpoint)
                try await setAutoCheckpoint(Self.defaultAutoCheckpoint)
            } catch {
                logger.warning("write-ahead log: last checkpoint failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    /// One checkpoint on `checkpointer`, and by the writer when the log is too long; returns what
    /// the first one reported.
    @discardableResult
    func pass(on checkpointer: DatabaseQueue) async throws -> Report {
        let report = try await checkpointer.writeWithoutTransaction(Self.checkpoint)
        if report.logFrames > restartAbove {
            let restarted = try await database.pool.writeWithoutTransaction(Self.checkpoint)
            logger.debug(
                "write-ahead log checkpointed by the writer so it can start over",
                metadata: ["hub.frames": "\(report.logFrames)", "hub.after": "\(restarted.logFrames)"])
        }
        return report
    }

    /// A passive checkpoint on `db`'s connection: copies what no reader still needs, waits for nobody.
    static func checkpoint(_ db: Database) throws -> Report {
        let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
        return Report(logFrames: row?[1] ?? 0, checkpointed: row?[2] ?? 0)
    }

    /// The threshold is a setting of each connection; only the writer's commits check it.
    func setAutoCheckpoint(_ pages: Int) async throws {
        try await database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = \(pages)") }
    }
}
