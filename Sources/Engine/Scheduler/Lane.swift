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
    private let inFlight = Atomic<Int>(0)

    public init(name: String, maxConcurrent: Int, queueLimit: Int) {
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.queue = BoundedQueue(capacity: queueLimit)
    }

    /// Queues `job`; false when the lane is full or shut down.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        queue.tryEnqueue(job)
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
                    inFlight.add(1, ordering: .relaxed)
                    group.addTask {
                        await job()
                        self.inFlight.subtract(1, ordering: .relaxed)
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
