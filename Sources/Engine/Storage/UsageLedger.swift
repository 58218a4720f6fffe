// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// One attempt of a provider (an LLM, a speech synthesizer or recognizer), as recorded in the
/// `usage` table.
public struct UsageRecord: Sendable, Hashable {
    /// `llm`, `tts`, `stt` or `image`.
    public var kind: String
    public var provider: String
    public var model: String
    /// `ok`, or why the attempt failed (`httpStatus 429`, `timeout`, …).
    public var outcome: String
    public var promptTokens: Int
    public var completionTokens: Int
    /// What an attempt processed: characters synthesized (`tts`), seconds of audio recognized
    /// (`stt`), images delivered (`image`); 0 for the LLM.
    public var quantity: Double
    /// From the route's `cost_per_1k_tokens`.
    public var cost: Double
    public var latency: Duration
    public var at: Date

    public init(
        kind: String = "llm", provider: String, model: String, outcome: String, promptTokens: Int = 0, completionTokens: Int = 0,
        quantity: Double = 0, cost: Double = 0, latency: Duration, at: Date = Date()
    ) {
        self.kind = kind
        self.quantity = quantity
        self.provider = provider
        self.model = model
        self.outcome = outcome
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.latency = latency
        self.at = at
    }
}

/// Totals of the `usage` table for one kind, provider, model and outcome.
public struct UsageSummary: Sendable, Hashable {
    /// `llm`, `tts`, `stt` or `image`.
    public var kind: String = "llm"
    public var provider: String
    public var model: String
    public var outcome: String
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var cost: Double
    public var averageLatencyMilliseconds: Double
    /// Characters (`tts`), seconds of audio (`stt`) or images (`image`).
    public var quantity: Double = 0
}

/// Every LLM attempt, written to SQLite off the hot path: ``record(_:)`` only queues (bounded;
/// when full the record is dropped and counted), and ``run()`` (a `Service`) writes what is queued
/// in batches, one transaction each, at most one per `gathering` interval.
public final class UsageLedger: Service, Sendable {
    private let database: HubDatabase
    private let queue: BoundedQueue<UsageRecord>
    private let gathering: Duration
    private let logger: Logger

    public init(database: HubDatabase, capacity: Int = 65_536, gathering: Duration = .milliseconds(100), logger: Logger) {
        self.database = database
        self.gathering = gathering
        self.queue = BoundedQueue(capacity: capacity)
        self.logger = logger
    }

    /// Queues a record; false when the queue is full (the record is lost, and logged at debug).
    @discardableResult
    public func record(_ record: UsageRecord) -> Bool {
        let queued = queue.tryEnqueue(record)
        if !queued { logger.debug("usage queue full; record dropped") }
        return queued
    }

    /// Records queued and not yet written.
    public var pending: Int { queue.count }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while let first = await self.queue.next() {
                // Gather for a moment: one transaction per 100 ms at most, however busy the hub.
                try? await Task.sleep(for: self.gathering)
                var batch = [first]
                while batch.count < 512, self.queue.count > 0, let next = await self.queue.next() { batch.append(next) }
                await self.write(batch)
            }
        }
        // Shutting down: write what is left.
        await flush()
    }

    /// Writes queued records now (tests and shutdown).
    public func flush() async {
        var batch = [UsageRecord]()
        while queue.count > 0, let next = await queue.next() { batch.append(next) }
        if !batch.isEmpty { await write(batch) }
    }

    private func write(_ batch: [UsageRecord]) async {
        do {
            if Task.isCancelled {
                // Shutting down: GRDB's async write refuses a cancelled task, and these records must
                // not be lost, so they are written on this thread (a short transaction).
                try writeOnThisThread(batch)
            } else {
                try await database.pool.write { db in try Self.insert(batch, into: db) }
            }
        } catch {
            logger.error("usage records not written", metadata: ["error": "\(error)", "hub.records": "\(batch.count)"])
        }
    }

    private func writeOnThisThread(_ batch: [UsageRecord]) throws {
        try database.pool.write { db in try Self.insert(batch, into: db) }
    }

    private static func insert(_ batch: [UsageRecord], into db: Database) throws {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO usage (kind, provider, model, outcome, prompt_tokens, completion_tokens, quantity, cost, latency_ms, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for record in batch {
            try insert.execute(arguments: [
                record.kind, record.provider, record.model, record.outcome, record.promptTokens, record.completionTokens,
                record.quantity.isFinite ? record.quantity : 0, record.cost,
                Double(record.latency.nanoseconds) / 1e6, record.at.timeIntervalSince1970,
            ])
        }
    }

    /// Totals by kind, provider, model and outcome since `date`.
    public func summary(since date: Date = .distantPast) async throws -> [UsageSummary] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, provider, model, outcome, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt,
                           SUM(completion_tokens) AS completion, SUM(quantity) AS quantity, SUM(cost) AS cost, AVG(latency_ms) AS latency
                    FROM usage WHERE created_at >= ? GROUP BY kind, provider, model, outcome ORDER BY kind, provider, model, outcome
                    """, arguments: [date.timeIntervalSince1970]
            ).map { row in
                UsageSummary(
                    kind: row["kind"], provider: row["provider"], model: row["model"], outcome: row["outcome"], requests: row["requests"],
                    promptTokens: row["prompt"] ?? 0, completionTokens: row["completion"] ?? 0, cost: row["cost"] ?? 0,
                    averageLatencyMilliseconds: row["latency"] ?? 0, quantity: row["quantity"] ?? 0)
            }
        }
    }

    /// The rows since `from` (inclusive) and before `to`, totalled per `bucket`-long slice of time
    /// (counted from `from`), kind, provider and model; empty buckets are left out. Oldest first.
    ///
    /// - Parameters:
    ///   - from: the start of the first bucket.
    ///   - to: the end of the window.
    ///   - bucket: the length of a bucket; at least one second.
    public func timeSeries(from: Date, to: Date, bucket: Duration) async throws -> [UsageBucket] {
        let seconds = max(1, Double(bucket.components.seconds))
        let start = from.timeIntervalSince1970
        return try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST((created_at - ?) / ? AS INTEGER) AS slot, kind, provider, model, COUNT(*) AS requests,
                           SUM(outcome = 'ok') AS ok, SUM(outcome = 'cancelled') AS cancelled, SUM(prompt_tokens) AS prompt,
                           SUM(completion_tokens) AS completion, SUM(quantity) AS quantity, SUM(cost) AS cost, AVG(latency_ms) AS latency
                    FROM usage WHERE created_at >= ? AND created_at < ?
                    GROUP BY slot, kind, provider, model ORDER BY slot, kind, provider, model
                    """, arguments: [start, seconds, start, to.timeIntervalSince1970]
            ).map { row in
                let slot: Int = row["slot"]
                let ok: Int = row["ok"] ?? 0
                let cancelled: Int = row["cancelled"] ?? 0
                let promptTokens: Int = row["prompt"] ?? 0
                let completionTokens: Int = row["completion"] ?? 0
                let quantity: Double = row["quantity"] ?? 0
                let cost: Double = row["cost"] ?? 0
                let latency: Double = row["latency"] ?? 0
                return UsageBucket(
                    start: Date(timeIntervalSince1970: start + Double(slot) * seconds), kind: row["kind"], provider: row["provider"],
                    model: row["model"], requests: row["requests"], ok: ok, cancelled: cancelled, promptTokens: promptTokens,
                    completionTokens: completionTokens, quantity: quantity, cost: cost, averageLatencyMilliseconds: latency)
            }
        }
    }
}
