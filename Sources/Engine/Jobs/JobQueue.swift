// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The `batch` lane: long work (images) as durable jobs in the `jobs` table, run at most
/// ``Settings/maxConcurrent`` at a time, taken by priority with aging (``JobStore``).
///
/// ``submit(kind:payload:priority:origin:)`` refuses at once when ``Settings/queueLimit`` jobs
/// wait (``Full``, with a `Retry-After` estimate), so the lane never delays another lane's work.
/// Each attempt has a timeout; a failed attempt with budget left goes back in the queue. A job
/// that was running when the hub was killed is queued again when the queue starts; one running at
/// a graceful shutdown is put back at once. A finished job a chat asked for (``JobRecord/origin``)
/// is handed to the delivery set with ``deliver(with:)``, and marked delivered once it arrived —
/// after a restart too.
///
/// ```swift
/// let queue = JobQueue(store: JobStore(database: db), settings: .init(maxConcurrent: 1), runners: ["image": runner], logger: logger)
/// let ticket = try await queue.submit(kind: "image", payload: json, priority: .high)
/// let finished = try await queue.wait(for: ticket.job.id, timeout: .seconds(60))
/// ```
public final class JobQueue: Service, Sendable {
    /// The lane's limits and a job's budget.
    public struct Settings: Sendable, Hashable {
        /// Jobs running at once (`lanes.batch.max_concurrent`).
        public var maxConcurrent: Int
        /// Jobs waiting at most (`lanes.batch.queue`).
        public var queueLimit: Int
        /// A waiting job counts one priority level higher for each `aging` it has waited.
        public var aging: Duration
        /// Longest one attempt may run.
        public var timeout: Duration
        /// Attempts per job, the first included.
        public var maxAttempts: Int

        public init(
            maxConcurrent: Int = 1, queueLimit: Int = 1024, aging: Duration = .seconds(60), timeout: Duration = .seconds(300), maxAttempts: Int = 2
        ) {
            self.maxConcurrent = max(1, maxConcurrent)
            self.queueLimit = max(0, queueLimit)
            self.aging = aging
            self.timeout = timeout
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    /// The queue is full; try again after `retryAfter`.
    public struct Full: Error, Sendable, Hashable {
        public var retryAfter: Duration
    }

    /// A job just queued and how many go before it (1: it is next).
    public struct Ticket: Sendable, Hashable {
        public var job: JobRecord
        public var position: Int
    }

    private struct State {
        var queued = 0
        var running = 0
        var work: [String: Task<[MediaFile], any Error>] = [:]
        var cancelling: Set<String> = []
        var stopping = false
        var refused = 0
        /// When each job whose attempt failed in this run went back in the queue: its next
        /// attempt's wait is measured from then, not from its ``JobRecord/queuedAt``.
        var requeuedAt: [String: ContinuousClock.Instant] = [:]
        /// When this run counted the jobs a previous run left: the jobs that run put back (their
        /// attempts cut off) have waited since then.
        var runStarted = ContinuousClock.now
        /// Seconds an attempt takes, smoothed; for `Retry-After`.
        var averageRun = 10.0
    }

    /// The lane's name in metrics and the resources API.
    public let name = "batch"
    public let settings: Settings
    public let store: JobStore
    private let runners: [String: any JobRunner]
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let waiters = JobWaiters()
    /// Fired once the jobs a previous run left are counted; submissions wait for it.
    private let counted = StartSignal()
    private let databaseReady: StartSignal?
    private let delivery = Mutex<(@Sendable (JobRecord) async -> Bool)?>(nil)
    private let metrics: HubMetrics
    private let logger: Logger

    /// - Parameter databaseReady: fired once the database is migrated; the queue touches the
    ///   table only after it (nil: ready now).
    public init(
        store: JobStore, settings: Settings, runners: [String: any JobRunner], databaseReady: StartSignal? = nil, metrics: HubMetrics = .disabled,
        logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.runners = runners
        self.databaseReady = databaseReady
        self.metrics = metrics
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Sets where finished jobs a chat asked for go; `deliver` returns whether it arrived (if not,
    /// the next start tries again). Set once, while the hub is assembled.
    public func deliver(with deliver: @escaping @Sendable (JobRecord) async -> Bool) {
        delivery.withLock { $0 = deliver }
    }

    public var snapshot: LaneSnapshot {
        state.withLock { state in
            LaneSnapshot(
                running: state.running, queued: state.queued, maxConcurrent: settings.maxConcurrent, queueLimit: settings.queueLimit,
                refused: state.refused)
        }
    }

    // MARK: Submitting

    /// Queues a job. Throws ``Full`` when the queue is full, `JobFailure` for a kind nobody runs,
    /// or the database's error.
    public func submit(kind: String, payload: String, priority: JobPriority = .normal, origin: String? = nil) async throws -> Ticket {
        guard runners[kind] != nil else { throw JobFailure("no runner for \(kind) jobs", retryable: false) }
        await counted.wait()
        let refusal = state.withLock { state -> Duration? in
            guard state.queued < settings.queueLimit else {
                state.refused += 1
                return retryAfter(state)
            }
            state.queued += 1
            return nil
        }
        if let refusal {
            metrics.laneRefused(lane: name)
            throw Full(retryAfter: refusal)
        }
        let job = JobRecord(
            id: JobRecord.makeID(), kind: kind, priority: priority, payload: payload, origin: origin, maxAttempts: settings.maxAttempts,
            createdAt: Date())
        do {
            try await store.insert(job)
        } catch {
            state.withLock { $0.queued -= 1 }
            throw error
        }
        reportDepth()
        let position = (try? await store.position(of: job, now: Date(), aging: settings.aging)) ?? 0
        wake.yield()
        return Ticket(job: job, position: position + 1)
    }

    /// A job and, while it waits, how many go before it (1: next).
    public func status(_ id: String) async throws -> (job: JobRecord, position: Int?)? {
        guard let job = try await store.job(id) else { return nil }
        guard job.state == .queued else { return (job, nil) }
        return (job, try await store.position(of: job, now: Date(), aging: settings.aging) + 1)
    }

    /// Cancels a queued or running job and returns it as it ended; a finished job is returned
    /// unchanged, an unknown one as nil.
    public func cancel(_ id: String) async throws -> JobRecord? {
        if let cancelled = try await store.cancelQueued(id, at: Date()) {
            state.withLock { state in
                state.queued -= 1
                state.requeuedAt[id] = nil
            }
            reportDepth()
            metrics.jobFinished(kind: cancelled.kind, outcome: JobState.cancelled.rawValue)
            waiters.notify(id)
            return cancelled
        }
        guard let job = try await store.job(id) else { return nil }
        guard job.state == .running else { return job }
        let token = waiters.register(id)
        let work = state.withLock { state -> Task<[MediaFile], any Error>? in
            state.cancelling.insert(id)
            return state.work[id]
        }
        work?.cancel()
        await waiters.wait(id, token: token, timeout: .seconds(10))
        return try await store.job(id)
    }

    /// The job once it has finished, or as it is when `timeout` passes first; nil when unknown.
    public func wait(for id: String, timeout: Duration) async throws -> JobRecord? {
        let token = waiters.register(id)
        guard let job = try await store.job(id) else {
            waiters.unregister(id, token: token)
            return nil
        }
        guard !job.state.isFinished else {
            waiters.unregister(id, token: token)
            return job
        }
        await waiters.wait(id, token: token, timeout: timeout)
        return try await store.job(id)
    }

    // MARK: Running

    public func run() async throws {
        if let databaseReady {
            await withTaskCancellationHandler { await databaseReady.wait() } onCancel: { databaseReady.fire() }
            guard !Task.isCancelled else { return }
        }
        let requeued: Int
        let pending: [JobRecord]
        do {
            requeued = try await store.requeueInterrupted()
            let queued = try await store.queuedCount()
            // Read before any job of this run can finish: one that does is delivered by its own
            // attempt alone, never by this list too.
            pending = await undelivered()
            state.withLock { state in
                state.queued = queued
                state.runStarted = .now
            }
            counted.fire()
        } catch {
            // Submissions waiting for the count must not wait forever; they meet the same error.
            counted.fire()
            throw error
        }
        reportDepth()
        if requeued > 0 { logger.info("jobs interrupted by the last stop queued again", metadata: ["hub.jobs": "\(requeued)"]) }
        wake.yield()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.redeliver(pending) }
                for await _ in wakeups {
                    await startJobs(in: &group)
                }
                // Stopping: running attempts go back in the queue for the next start.
                let running = state.withLock { state in
                    state.stopping = true
                    return Array(state.work.values)
                }
                for work in running { work.cancel() }
                // Deliveries still under way go on at the next start (they are not marked delivered).
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
    }

    private func startJobs(in group: inout DiscardingTaskGroup) async {
        while true {
            let free = state.withLock { state -> Bool in
                guard state.running < settings.maxConcurrent, !state.stopping else { return false }
                state.running += 1
                return true
            }
            guard free else { return }
            let claimed: JobRecord?
            do {
                claimed = try await store.claimNext(now: Date(), aging: settings.aging)
            } catch {
                logger.error("next job not taken", metadata: ["error": "\(error)"])
                claimed = nil
            }
            guard let job = claimed else {
                // The slot was held while looking; a job that ended meanwhile reported it as running.
                state.withLock { $0.running -= 1 }
                reportDepth()
                return
            }
            state.withLock { $0.queued -= 1 }
            reportDepth()
            group.addTask { await self.execute(job) }
        }
    }

    private func execute(_ job: JobRecord) async {
        let begun = ContinuousClock.now
        metrics.laneWait(lane: name, duration: waited(job, until: begun))
        let runner = runners[job.kind]
        let timeout = settings.timeout
        let work = Task<[MediaFile], any Error> {
            guard let runner else { throw JobFailure("no runner for \(job.kind) jobs", retryable: false) }
            return try await Self.attempt(job, runner: runner, timeout: timeout)
        }
        let cancelledEarly = state.withLock { state -> Bool in
            state.work[job.id] = work
            return state.cancelling.contains(job.id) || state.stopping
        }
        if cancelledEarly { work.cancel() }
        let result = await work.result
        let ran = ContinuousClock.now - begun
        metrics.laneRun(lane: name, duration: ran)
        let (byUser, stopping) = state.withLock { state in
            state.work[job.id] = nil
            state.averageRun = 0.8 * state.averageRun + 0.2 * Double(ran.nanoseconds) / 1e9
            return (state.cancelling.remove(job.id) != nil, state.stopping)
        }
        // Stored even when the queue is stopping (a cancelled task's writes would be refused).
        let finished = await Task { await self.record(result, of: job, byUser: byUser, stopping: stopping) }.value
        state.withLock { $0.running -= 1 }
        reportDepth()
        wake.yield()
        guard let finished else { return }
        metrics.jobFinished(kind: finished.kind, outcome: finished.state.rawValue)
        waiters.notify(finished.id)
        if finished.origin != nil && finished.state != .cancelled { await deliver(finished) }
    }

    /// Stores how an attempt ended; returns the job when it is over.
    private func record(_ result: Result<[MediaFile], any Error>, of job: JobRecord, byUser: Bool, stopping: Bool) async -> JobRecord? {
        do {
            switch result {
            case .success(let files):
                return try await store.finish(job.id, state: .succeeded, result: files, at: Date())
            case .failure(let error) where byUser:
                logger.info("job cancelled", metadata: ["hub.job": "\(job.id)", "error": "\(error)"])
                return try await store.finish(job.id, state: .cancelled, error: "cancelled", at: Date())
            case .failure where stopping:
                // However the cancelled attempt ended, the job runs again on the next start.
                try await store.requeue(job.id, error: nil)
            case .failure(let error):
                let failure = error as? JobFailure ?? JobFailure("\(error)", retryable: !(error is CancellationError))
                guard failure.retryable && job.attempts < job.maxAttempts else {
                    logger.warning("job failed", metadata: ["hub.job": "\(job.id)", "hub.attempt": "\(job.attempts)", "error": "\(failure.message)"])
                    return try await store.finish(job.id, state: .failed, error: failure.message, at: Date())
                }
                logger.warning(
                    "job attempt failed; queued again", metadata: ["hub.job": "\(job.id)", "hub.attempt": "\(job.attempts)", "error": "\(failure.message)"])
                // Noted before the write: once the row is queued, another attempt may take it at once.
                state.withLock { $0.requeuedAt[job.id] = .now }
                try await store.requeue(job.id, error: failure.message)
                state.withLock { $0.queued += 1 }
                metrics.jobFinished(kind: job.kind, outcome: "retried")
            }
        } catch {
            logger.error("job's end not stored; it runs again on the next start", metadata: ["hub.job": "\(job.id)", "error": "\(error)"])
        }
        return nil
    }

    /// One attempt, bounded by `timeout`.
    private static func attempt(_ job: JobRecord, runner: any JobRunner, timeout: Duration) async throws -> [MediaFile] {
        try await withThrowingTaskGroup(of: [MediaFile]?.self) { group in
            group.addTask { try await runner.run(job) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let files = first else {
                throw JobFailure("the job took longer than \(timeout.formatted(.units(allowed: [.seconds], width: .abbreviated)))", retryable: true)
            }
            return files
        }
    }

    // MARK: Delivery

    private func deliver(_ job: JobRecord) async {
        guard let deliver = delivery.withLock({ $0 }) else { return }
        guard await deliver(job) else { return }
        do {
            try await store.markDelivered(job.id, at: Date())
        } catch {
            logger.warning("job delivery not recorded", metadata: ["hub.job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// What the last run finished but could not deliver.
    private func undelivered() async -> [JobRecord] {
        do {
            return try await store.undelivered()
        } catch {
            logger.error("finished jobs not delivered", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Delivers what the last run finished but could not deliver.
    private func redeliver(_ pending: [JobRecord]) async {
        if !pending.isEmpty { logger.info("delivering finished jobs", metadata: ["hub.jobs": "\(pending.count)"]) }
        for job in pending where !Task.isCancelled { await deliver(job) }
    }

    // MARK: Bookkeeping

    /// How long the attempt of `job` starting at `start` waited in the queue: since the job was
    /// queued for its first attempt; since it went back in the queue for a later one (since this
    /// run started, for a job an earlier run put back). The job's ``JobRecord/queuedAt`` keeps its
    /// first queueing for aging, so it would count earlier attempts' run time as waiting.
    private func waited(_ job: JobRecord, until start: ContinuousClock.Instant) -> Duration {
        let requeued = state.withLock { state -> ContinuousClock.Instant? in
            if let requeued = state.requeuedAt.removeValue(forKey: job.id) { return requeued }
            return job.attempts > 1 ? state.runStarted : nil
        }
        if let requeued { return max(.zero, start - requeued) }
        return .milliseconds(Int64(max(0, Date().timeIntervalSince(job.queuedAt)) * 1000))
    }

    private func retryAfter(_ state: State) -> Duration {
        let seconds = state.averageRun * Double(max(1, state.queued)) / Double(settings.maxConcurrent)
        return .seconds(Int64(min(3600, max(1, seconds.rounded(.up)))))
    }

    /// Sets the depth gauges; under the lock, so that the last report is the latest state.
    private func reportDepth() {
        state.withLock { state in metrics.laneDepth(lane: name, queued: state.queued, running: state.running) }
    }
}
