// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// `GET /api/v1/task/status/{task_id}`'s answer:
/// `{task_id, type, status, priority, position?, progress?, attempts, created_at, started_at,
/// finished_at, result: {images: [urls]}, error}` (times in RFC 3339, null when not yet).
struct TaskStatus: Encodable, Sendable {
    struct Result: Encodable, Sendable {
        var images: [String]
    }

    var taskID: String
    var type: String
    var status: JobState
    var priority: JobPriority
    /// Place in the queue while queued (1: next).
    var position: Int?
    /// 0 while queued, 0.5 while running, 1 when finished: generators report no finer progress.
    var progress: Double
    var attempts: Int
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var result: Result
    var error: String?

    enum CodingKeys: String, CodingKey {
        case type, status, priority, position, progress, attempts, result, error
        case taskID = "task_id"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// - Parameter origin: `http(s)://host` the picture URLs start with; nil: paths only.
    init(_ job: JobRecord, position: Int?, origin: String?) {
        taskID = job.id
        type = job.kind
        status = job.state
        priority = job.priority
        self.position = position
        progress =
            switch job.state {
            case .queued: 0
            case .running: 0.5
            case .succeeded, .failed, .cancelled: 1
            }
        attempts = job.attempts
        createdAt = Self.timestamp(job.createdAt)
        startedAt = job.startedAt.map(Self.timestamp)
        finishedAt = job.finishedAt.map(Self.timestamp)
        result = Result(images: job.result.map { (origin ?? "") + $0.urlPath })
        error = job.error
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(type, forKey: .type)
        try container.encode(status, forKey: .status)
        try container.encode(priority, forKey: .priority)
        try container.encodeIfPresent(position, forKey: .position)
        try container.encode(progress, forKey: .progress)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(createdAt, forKey: .createdAt)
        // Times not reached yet and a missing error are null, not absent: clients read every key.
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
