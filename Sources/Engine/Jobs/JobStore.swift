// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB

/// The `jobs` table: every change of a job's state is one short write, so a job survives the
/// hub being killed at any point.
///
/// The next job is the queued one with the lowest aged rank, `rank - ⌊waited / aging⌋`, then the
/// oldest: a low job (rank 2) that waited two aging steps goes ahead of a high job (rank 0) that
/// arrived after it.
public struct JobStore: Sendable {
    let database: HubDatabase

    public init(database: HubDatabase) {
        self.database = database
    }

    public func insert(_ job: JobRecord) async throws {
        try await database.pool.write { db in try job.insert(db) }
    }

    public func job(_ id: String) async throws -> JobRecord? {
        try await database.pool.read { db in try JobRecord.fetchOne(db, key: id) }
    }

    /// Marks the next queued job `running` (one more attempt, started now) and returns it.
    ///
    /// Within a priority the oldest job has waited longest, so it has the lowest aged rank of its
    /// priority: the next job is the best of the oldest job of each priority (three index lookups,
    /// however long the queue).
    public func claimNext(now: Date, aging: Duration) async throws -> JobRecord? {
        let agingSeconds = max(Double(aging.nanoseconds) / 1e9, 0.001)
        return try await database.pool.write { db in
            var best: (aged: Int, queuedAt: Double, id: String)?
            for priority in JobPriority.allCases {
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT id, queued_at FROM jobs WHERE state = 'queued' AND rank = ? ORDER BY queued_at, rowid LIMIT 1"),
                        arguments: [priority.rank])
                else { continue }
                let queuedAt: Double = row["queued_at"]
                let aged = priority.rank - Int(((now.timeIntervalSince1970 - queuedAt) / agingSeconds).rounded(.down))
                if best.map({ (aged, queuedAt) < ($0.aged, $0.queuedAt) }) ?? true { best = (aged, queuedAt, row["id"]) }
            }
            guard let best else { return nil }
            return try JobRecord.fetchOne(
                db, sql: "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? RETURNING *",
                arguments: [now.timeIntervalSince1970, best.id])
        }
    }

    /// How many queued jobs go before `job`, in the order ``claimNext(now:aging:)`` takes them:
    /// for each priority, the jobs whose aged rank is better than `job`'s, or equal and older
    /// (index range counts, however long the queue).
    public func position(of job: JobRecord, now: Date, aging: Duration) async throws -> Int {
        let agingSeconds = max(Double(aging.nanoseconds) / 1e9, 0.001)
        let nowSeconds = now.timeIntervalSince1970
        let mine = job.priority.rank - Int(((nowSeconds - job.queuedAt.timeIntervalSince1970) / agingSeconds).rounded(.down))
        let mineAt = job.queuedAt.timeIntervalSince1970
        return try await database.pool.read { db in
            var ahead = 0
            for priority in JobPriority.allCases {
                // A job of this priority queued at t has aged rank r - ⌊(now - t) / aging⌋; it goes
                // first when that is below `mine`, or equal and it is older.
                // aged < mine  ⟺  ⌊(now - t) / aging⌋ ≥ r - mine + 1  ⟺  t ≤ now - (r - mine + 1) · aging
                // aged == mine  ⟺  now - (r - mine + 1) · aging < t ≤ now - (r - mine) · aging
                let steps = priority.rank - mine
                let better = nowSeconds - Double(steps + 1) * agingSeconds
                let equalUntil = nowSeconds - Double(steps) * agingSeconds
                ahead +=
                    try Int.fetchOne(
                        db.cachedStatement(
                            sql: """
                                SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND rank = :rank AND id != :id
                                AND (queued_at <= :better OR (queued_at <= :until AND queued_at < :mine))
                                """),
                        arguments: [
                            "rank": priority.rank, "id": job.id, "better": better, "until": equalUntil, "mine": mineAt,
                        ]) ?? 0
            }
            return ahead
        }
    }

    /// Ends a running job: `succeeded` with its files, `failed` with its error, or `cancelled`.
    public func finish(_ id: String, state: JobState, result: [MediaFile] = [], error: String? = nil, at now: Date) async throws -> JobRecord? {
        let resultText = result.isEmpty ? nil : String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        return try await database.pool.write { db in
            try JobRecord.fetchOne(
                db, sql: "UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ? WHERE id = ? RETURNING *",
                arguments: [state.rawValue, resultText, error, now.timeIntervalSince1970, id])
        }
    }

    /// Puts a running job back in the queue (an attempt failed with budget left, or the hub is
    /// stopping); it keeps its place by age.
    public func requeue(_ id: String, error: String?) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'queued', error = ?, started_at = NULL WHERE id = ? AND state = 'running'", arguments: [error, id])
        }
    }

    /// Cancels a job that is still queued; nil when it is not (running, finished, unknown).
    public func cancelQueued(_ id: String, at now: Date) async throws -> JobRecord? {
        try await database.pool.write { db in
            try JobRecord.fetchOne(
                db, sql: "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'queued' RETURNING *",
                arguments: [now.timeIntervalSince1970, id])
        }
    }

    /// On start: jobs left `running` by a hub that was killed go back in the queue. Returns how many.
    public func requeueInterrupted() async throws -> Int {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'queued', started_at = NULL WHERE state = 'running'")
            return db.changesCount
        }
    }

    /// Jobs waiting to run.
    public func queuedCount() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'queued'") ?? 0 }
    }

    /// Finished jobs a chat asked for whose result has not reached it yet, oldest first.
    public func undelivered(limit: Int = 1000) async throws -> [JobRecord] {
        try await database.pool.read { db in
            try JobRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM jobs WHERE finished_at IS NOT NULL AND delivered_at IS NULL AND origin IS NOT NULL
                    AND state IN ('succeeded', 'failed') ORDER BY finished_at LIMIT ?
                    """, arguments: [limit])
        }
    }

    public func markDelivered(_ id: String, at now: Date) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE jobs SET delivered_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
        }
    }

    /// Forgets jobs finished before `cutoff`; returns the files they made.
    public func deleteFinished(before cutoff: Date) async throws -> [MediaFile] {
        try await database.pool.write { db in
            let rows = try JobRecord.fetchAll(
                db, sql: "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? RETURNING *", arguments: [cutoff.timeIntervalSince1970])
            return rows.flatMap(\.result)
        }
    }
}
