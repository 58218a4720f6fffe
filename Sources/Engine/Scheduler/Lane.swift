// SPDX-License-Identifier: Apache-2.0
import ServiceLifecycle
import Synchronization

/// A lane of work with its own concurrency limit and a bounded queue.
///
/// ``submit(_:)`` never waits: it queues the job or refuses it at once when the queue is full, so
/// a caller can answer "busy" instead of piling up work. ``run()`` (a `Service`) executes queued jobs
/// with at most `maxConcurrent` at a time. On graceful shutdown the lane stops taking jobs,
/// finishes the ones already queued, and returns.
///
/// ```swift
/// let lane = Lane(name: "realtime", maxConcurrent: 256, queueLimit: 4096)
/// guard lane.submit({ await handle(event) }) else { return .busy }
/// ```
public final class Lane: Service, Sendable {
    public typealias Job = @Sendable () async -> Void

    public let name: String
    public let maxConcurrent: Int
    private let queue: BoundedQueue<Job>
    /// Jobs running now; changed and reported to the gauges under its lock, so that the last
    /// report is the latest state even when jobs end together.
    private let inFlight = Mutex<Int>(0)
    private let refused = Atomic<Int>(0)

    private let metrics: HubMetrics

    /// - Parameter metrics: receives the lane's depth, each job's wait and run time
    ///   (`hub_lane_queued`, `hub_lane_running`, `hub_lane_wait_seconds`, `hub_lane_run_seconds`)
    ///   and its refusals (`hub_lane_refused_total`).
    public init(name: String, maxConcurrent: Int, queueLimit: Int, metrics: HubMetrics = .disabled) {
        self.metrics = metrics
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.queue = BoundedQueue(capacity: queueLimit)
    }

    /// Queues `job`; false when the lane is full or shut down.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        let queued = ContinuousClock.now
        let metrics = self.metrics
        let name = self.name
        let timed: Job = {
            let started = ContinuousClock.now
            metrics.laneWait(lane: name, duration: started - queued)
            await job()
            metrics.laneRun(lane: name, duration: .now - started)
        }
        guard queue.tryEnqueue(timed) else {
            refused.add(1, ordering: .relaxed)
            metrics.laneRefused(lane: name)
            return false
        }
        adjustRunning(by: 0)
        return true
    }

    /// Changes the running count by `delta` and reports the lane's depth, both under one lock.
    @discardableResult
    private func adjustRunning(by delta: Int) -> Int {
        inFlight.withLock { running in
            running += delta
            metrics.laneDepth(lane: name, queued: queue.count, running: running)
            return running
        }
    }

    /// What runs and waits now, the limits, and the refusals so far.
    public var snapshot: LaneSnapshot {
        LaneSnapshot(
            running: runningCount, queued: queuedCount, maxConcurrent: maxConcurrent, queueLimit: queue.capacity,
            refused: refused.load(ordering: .relaxed))
    }

    /// Jobs waiting to start.
    public var queuedCount: Int { queue.count }
    /// Jobs running now.
    public var runningCount: Int { inFlight.withLock { $0 } }

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
                    adjustRunning(by: 1)
                    group.addTask {
                        await job()
                        self.adjustRunning(by: -1)
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
