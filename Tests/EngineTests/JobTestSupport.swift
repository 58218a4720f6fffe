// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

@testable import Engine

/// A gate that holds everyone who ``wait()``s until ``open()``, and lets a waiter go at once (with
/// `CancellationError`) when its task is cancelled: a job runner blocked on it still ends when
/// the queue cancels the attempt (timeout, `cancel`, shutdown).
final class CancellableGate: Sendable {
    private struct State {
        var open = false
        var next: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state = Mutex(State())

    func wait() async throws {
        let token = state.withLock { state in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Result<Void, any Error>? in
                    if state.open { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[token] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A job runner whose every attempt does what the test says, and which records the attempts: the
/// payloads in the order they were run (payloads serve as the jobs' names in these tests) and a
/// stream of starts to wait on.
final class ScriptedRunner: JobRunner {
    /// One attempt: the job and which attempt of it this is (1 for the first).
    typealias Behaviour = @Sendable (_ job: JobRecord, _ attempt: Int) async throws -> [MediaFile]

    private let behaviour: Behaviour
    private let runs = Locked<[JobRecord]>([])
    /// The payload of every attempt as it starts.
    let starts: AsyncStream<String>
    private let startsContinuation: AsyncStream<String>.Continuation

    init(_ behaviour: @escaping Behaviour = { _, _ in [] }) {
        self.behaviour = behaviour
        (starts, startsContinuation) = AsyncStream.makeStream()
    }

    func run(_ job: JobRecord) async throws -> [MediaFile] {
        let attempt = runs.withLock { runs in
            runs.append(job)
            return runs.filter { $0.id == job.id }.count
        }
        startsContinuation.yield(job.payload)
        return try await behaviour(job, attempt)
    }

    /// The payloads of the attempts so far, in the order they started.
    var order: [String] { runs.value.map(\.payload) }

    /// How many attempts job `id` had in this runner.
    func attempts(of id: String) -> Int { runs.value.filter { $0.id == id }.count }
}

extension AsyncStream where Element: Sendable {
    /// The next `count` elements (fewer if the stream ends).
    func next(_ count: Int) async -> [Element] {
        var iterator = makeAsyncIterator()
        var elements = [Element]()
        while elements.count < count, let element = await iterator.next() { elements.append(element) }
        return elements
    }
}

enum JobTesting {
    static let logger: Logger = {
        var logger = Logger(label: "job-test")
        logger.logLevel = .critical
        return logger
    }()

    /// A queue of `test` jobs done by `runner`.
    static func queue(_ database: HubDatabase, runner: any JobRunner, settings: JobQueue.Settings = .init(aging: .seconds(60))) -> JobQueue {
        JobQueue(store: JobStore(database: database), settings: settings, runners: ["test": runner], logger: logger)
    }

    /// Runs `queue` in a service group while `body` runs, then shuts it down gracefully and waits
    /// for it to return; bounded by `limit`.
    static func running(_ queue: JobQueue, limit: Duration = .seconds(10), _ body: @escaping @Sendable (JobQueue) async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [queue], gracefulShutdownSignals: [], logger: logger))
        try await withTimeLimit(limit) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let ran: Result<Void, any Error>
                do {
                    try await body(queue)
                    ran = .success(())
                } catch {
                    ran = .failure(error)
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                try ran.get()
            }
        }
    }

    /// A finished job as a previous run of the hub left it.
    static func finished(
        _ payload: String, state: JobState = .succeeded, origin: String? = "{}", finishedAt: Date, deliveredAt: Date? = nil
    ) -> JobRecord {
        JobRecord(
            id: JobRecord.makeID(), kind: "test", priority: .normal, state: state, payload: payload, origin: origin, attempts: 1, maxAttempts: 2,
            createdAt: finishedAt.addingTimeInterval(-1), startedAt: finishedAt.addingTimeInterval(-1), finishedAt: finishedAt,
            error: state == .failed ? "broken" : nil, deliveredAt: deliveredAt)
    }
}
