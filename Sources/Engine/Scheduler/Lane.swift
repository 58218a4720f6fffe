// SPDX-License-Identifier: Apache-2.0
import ServiceLifecycle
import Synchronization

/// A lane of work with its own concurrency limit and a bounded queue.
///
/// ``submit(_:)`` never waits: it queues the job, or refuses it at once when `maxConcurrent` jobs
/// run and `queueLimit` wait, so a caller can answer "busy" instead of piling up work. It counts
/// the jobs it took and that have not finished, so a burst that arrives while jobs are starting is
/// not refused while a slot is free. ``run()`` (a `Service`) executes queued jobs with at most
/// `maxConcurrent` at a time. On graceful shutdown the lane stops taking jobs, finishes the ones
/// already queued, and returns.
///
/// ```swift
/// let lane = Lane(name: "realtime", maxConcurrent: 256, queueLimit: 4096)
/// guard lane.submit({ await handle(event) }) else { return .busy }
/// ```
public final class Lane: Service, Sendable {
    public typealias Job = @Sendable () async -> Void

    public let name: String
    public let maxConcurrent: Int
    /// Jobs that may wait while `maxConcurrent` run.
    public let queueLimit: Int
    /// Jobs taken and not finished (running or waiting) at most: `maxConcurrent + queueLimit`.
    private let admissionLimit: Int
    private let queue: BoundedQueue<Job>
    /// Jobs taken and not finished.
    private let admitted = Atomic<Int>(0)
    /// Jobs running now.
    private let inFlight = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    private let metrics: HubMetrics

    /// - Parameter metrics: receives the lane's depth, each job's wait and run time
    ///   (`hub_lane_queued`, `hub_lane_running`, `hub_lane_wait_seconds`, `hub_lane_run_seconds`)
    ///   and its refusals (`hub_lane_refused_total`).
    public init(name: String, maxConcurrent: Int, queueLimit: Int, metrics: HubMetrics = .disabled) {
        self.metrics = metrics
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.queueLimit = max(0, queueLimit)
        let (sum, overflow) = self.maxConcurrent.addingReportingOverflow(self.queueLimit)
        admissionLimit = overflow ? .max : sum
        // Jobs wait in the queue also while a slot is free and the runner is about to take them,
        // so its bound is the lane's whole admission limit; `submit` enforces the split.
        self.queue = BoundedQueue(capacity: admissionLimit)
    }

    /// Queues `job`; false when the lane is full or shut down.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        let queued = ContinuousClock.now
        let metrics = self.metrics
        let name = self.name
        let timed: Job = { [self] in
            let started = ContinuousClock.now
            metrics.laneWait(lane: name, duration: started - queued)
            await job()
            metrics.laneRun(lane: name, duration: .now - started)
            admitted.subtract(1, ordering: .relaxed)
        }
        guard admit() else { return refuse() }
        guard queue.tryEnqueue(timed) else {
            admitted.subtract(1, ordering: .relaxed)
            return refuse()
        }
        reportDepth()
        return true
    }

    /// Sets the depth gauges, then reads the depth again and sets them again until what was set
    /// is what is read: when jobs start or end together, whichever report comes last is followed
    /// by its own check, so the gauges end at the latest state. No lock: a turn's start and end
    /// never wait for another thread (a contended lock here showed in the open-loop p99).
    private func reportDepth() {
        var reported: (queued: Int, running: Int)?
        for _ in 0..<8 {
            let now = (queued: queue.count, running: inFlight.load(ordering: .sequentiallyConsistent))
            if let reported, reported == now { return }
            metrics.laneDepth(lane: name, queued: now.queued, running: now.running)
            reported = now
        }
    }

    /// Counts one more job taken; false when `maxConcurrent + queueLimit` are taken already.
    private func admit() -> Bool {
        var current = admitted.load(ordering: .relaxed)
        while current < admissionLimit {
            let (exchanged, original) = admitted.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Counts and reports a refusal; false, for `submit` to return.
    private func refuse() -> Bool {
        refused.add(1, ordering: .relaxed)
        metrics.laneRefused(lane: name)
        return false
    }

    /// What runs and waits now, the limits, and the refusals so far.
    public var snapshot: LaneSnapshot {
        LaneSnapshot(
            running: runningCount, queued: queuedCount, maxConcurrent: maxConcurrent, queueLimit: queueLimit,
            refused: refused.load(ordering: .relaxed))
    }

    /// Jobs waiting to start.
    public var queuedCount: Int { queue.count }
    /// Jobs running now.
    public var runningCount: Int { inFlight.load(ordering: .relaxed) }

    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                while true {
                    // Wait for a free slot first, so a saturated lane holds at most its queue.
                    if running >= maxConcurrent {
                        await group.next()
                        running -= 1
                    }
                    guard let job = await queue.next() else { break }
                    running += 1
                    inFlight.add(1, ordering: .sequentiallyConsistent)
                    reportDepth()
                    group.addTask {
                        await job()
                        self.inFlight.subtract(1, ordering: .sequentiallyConsistent)
                        self.reportDepth()
                    }
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.queue.close()
        }
    }

    /// Stops taking jobs; queued jobs still run.
    public func close() {
        queue.close()
    }
}
