// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB

/// One row of the `jobs` table: a piece of long work (an image to generate) with its priority,
/// state, attempts, times, error and result files.
public struct JobRecord: Sendable, Hashable {
    /// 32 lowercase hex digits; also the task id clients poll with.
    public var id: String
    /// What the job does (`image`); picks its ``JobRunner``.
    public var kind: String
    public var priority: JobPriority
    public var state: JobState
    /// The request, as the runner reads it (JSON).
    public var payload: String
    /// The chat message that asked for the job (the inbox's journal form), when a chat command
    /// did: the result is delivered there when the job ends.
    public var origin: String?
    /// Attempts started so far.
    public var attempts: Int
    public var maxAttempts: Int
    public var createdAt: Date
    /// When the job joined the queue (its creation; a retry keeps it, so it keeps its age for aging).
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Why it failed, in words a user can read.
    public var error: String?
    /// The files it made.
    public var result: [MediaFile]
    /// When its result reached the chat that asked for it.
    public var deliveredAt: Date?

    public init(
        id: String, kind: String, priority: JobPriority, state: JobState = .queued, payload: String, origin: String? = nil, attempts: Int = 0,
        maxAttempts: Int, createdAt: Date, queuedAt: Date? = nil, startedAt: Date? = nil, finishedAt: Date? = nil, error: String? = nil,
        result: [MediaFile] = [], deliveredAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.priority = priority
        self.state = state
        self.payload = payload
        self.origin = origin
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
        self.queuedAt = queuedAt ?? createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.result = result
        self.deliveredAt = deliveredAt
    }

    /// A fresh id: 128 bits from the system's cryptographic random source.
    public static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
    }

    /// Whether `text` has the shape of a job or media id, checked before any lookup.
    public static func isValidID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

extension JobRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "jobs"

    public init(row: Row) throws {
        id = row["id"]
        kind = row["kind"]
        priority = JobPriority(rawValue: row["priority"]) ?? .normal
        state = JobState(rawValue: row["state"]) ?? .failed
        payload = row["payload"]
        origin = row["origin"]
        attempts = row["attempts"]
        maxAttempts = row["max_attempts"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        queuedAt = Date(timeIntervalSince1970: row["queued_at"])
        startedAt = (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        finishedAt = (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        error = row["error"]
        let resultText: String? = row["result"]
        result = resultText.flatMap { try? JSONDecoder().decode([MediaFile].self, from: Data($0.utf8)) } ?? []
        deliveredAt = (row["delivered_at"] as Double?).map(Date.init(timeIntervalSince1970:))
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["kind"] = kind
        container["priority"] = priority.rawValue
        container["rank"] = priority.rank
        container["state"] = state.rawValue
        container["payload"] = payload
        container["origin"] = origin
        container["attempts"] = attempts
        container["max_attempts"] = maxAttempts
        container["created_at"] = createdAt.timeIntervalSince1970
        container["queued_at"] = queuedAt.timeIntervalSince1970
        container["started_at"] = startedAt?.timeIntervalSince1970
        container["finished_at"] = finishedAt?.timeIntervalSince1970
        container["error"] = error
        container["result"] = result.isEmpty ? nil : String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        container["delivered_at"] = deliveredAt?.timeIntervalSince1970
    }
}
