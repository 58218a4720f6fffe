// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import Engine

/// The `batch` lane on a real SQLite file with scripted runners: priorities and aging, the queue's
/// bound, retries and timeouts, cancellation, `wait`, restarts, delivery and graceful shutdown.
/// Every check of an order is made on the order the runner was called in, with the first job held
/// at a gate so the others are queued together.
@Suite(.timeLimit(.minutes(1)))
struct JobQueueTests {
    static func withDatabase(_ body: (HubDatabase) async throws -> Void) async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await body(database)
    }

    /// A runner that holds the job named `blocker` until `gate` opens and does the others at once.
    static func blockingRunner(_ gate: CancellableGate) -> ScriptedRunner {
        ScriptedRunner { job, _ in
            if job.payload == "blocker" { try await gate.wait() }
            return []
        }
    }

    // MARK: Order

    @Test func highRunsBeforeNormalBeforeLow() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1, aging: .seconds(60)))
            try await JobTesting.running(queue) { queue in
                let blocker = try await queue.submit(kind: "test", payload: "blocker", priority: .low)
                #expect(blocker.position == 1)
                #expect(await runner.starts.next(1) == ["blocker"])
                let low = try await queue.submit(kind: "test", payload: "low", priority: .low)
                let normal = try await queue.submit(kind: "test", payload: "normal", priority: .normal)
                let high = try await queue.submit(kind: "test", payload: "high", priority: .high)
                // Each newcomer went to the front (the running job is not counted).
                #expect(low.position == 1 && normal.position == 1 && high.position == 1)
                #expect(try await queue.status(low.job.id)?.position == 3)
                #expect(try await queue.status(high.job.id)?.position == 1)
                #expect(try await queue.status(blocker.job.id)?.position == nil)
                #expect(queue.snapshot == LaneSnapshot(running: 1, queued: 3, maxConcurrent: 1, queueLimit: 1024, refused: 0))
                gate.open()
                for ticket in [low, normal, high] {
                    #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.state == .succeeded)
                }
                #expect(runner.order == ["blocker", "high", "normal", "low"])
                #expect(queue.snapshot.queued == 0)
            }
        }
    }

    @Test func aLowJobThatWaitedTwoAgingStepsGoesAheadOfALaterHighOne() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1, aging: .milliseconds(200)))
            try await JobTesting.running(queue) { queue in
                _ = try await queue.submit(kind: "test", payload: "blocker", priority: .high)
                #expect(await runner.starts.next(1) == ["blocker"])
                let low = try await queue.submit(kind: "test", payload: "low", priority: .low)
                // More than two aging steps between the two submissions: however long either then
                // waits, low's aged rank is never above high's, and low is older.
                try await Task.sleep(for: .milliseconds(450))
                let high = try await queue.submit(kind: "test", payload: "high", priority: .high)
                let normal = try await queue.submit(kind: "test", payload: "normal", priority: .normal)
                #expect(high.position == 2)
                gate.open()
                for ticket in [low, high, normal] {
                    #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.state == .succeeded)
                }
                #expect(runner.order == ["blocker", "low", "high", "normal"])
            }
        }
    }

    @Test func neverRunsMoreThanMaxConcurrent() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let current = Locked((now: 0, peak: 0))
            let runner = ScriptedRunner { _, _ in
                current.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                defer { current.withLock { $0.now -= 1 } }
                try await gate.wait()
                return []
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 2))
            try await JobTesting.running(queue) { queue in
                var tickets = [JobQueue.Ticket]()
                for index in 0..<6 { tickets.append(try await queue.submit(kind: "test", payload: "job \(index)")) }
                #expect(await runner.starts.next(2).count == 2)
                #expect(queue.snapshot.running == 2)
                gate.open()
                for ticket in tickets { #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.state == .succeeded) }
                #expect(current.value.peak == 2)
                #expect(runner.order.count == 6)
            }
        }
    }

    // MARK: Bound

    @Test func aFullQueueRefusesAtOnceWithARetryAfter() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1, queueLimit: 2))
            try await JobTesting.running(queue) { queue in
                _ = try await queue.submit(kind: "test", payload: "blocker")
                #expect(await runner.starts.next(1) == ["blocker"])
                let first = try await queue.submit(kind: "test", payload: "a")
                _ = try await queue.submit(kind: "test", payload: "b")
                let full = await thrownError(JobQueue.Full.self) { try await queue.submit(kind: "test", payload: "c", priority: .high) }
                #expect((full?.retryAfter ?? .zero) > .zero)
                #expect(queue.snapshot == LaneSnapshot(running: 1, queued: 2, maxConcurrent: 1, queueLimit: 2, refused: 1))
                // The refused job was never stored.
                #expect(try await queue.store.queuedCount() == 2)
                // A kind nobody runs is refused too, but not as a full queue.
                let unknown = await thrownError(JobFailure.self) { try await queue.submit(kind: "video", payload: "x") }
                #expect(unknown?.retryable == false)
                #expect(queue.snapshot.refused == 1)
                // Once a place is free, submissions are taken again.
                gate.open()
                #expect(try await queue.wait(for: first.job.id, timeout: .seconds(5))?.state == .succeeded)
                let later = try await queue.submit(kind: "test", payload: "d")
                #expect(try await queue.wait(for: later.job.id, timeout: .seconds(5))?.state == .succeeded)
                #expect(queue.snapshot.refused == 1)
                #expect(!runner.order.contains("c"))
            }
        }
    }

    // MARK: Retries and timeouts

    @Test func aRetryableFailureIsTriedAgain() async throws {
        try await Self.withDatabase { database in
            let file = MediaFile(id: JobRecord.makeID(), format: .png, width: 64, height: 32)
            let runner = ScriptedRunner { _, attempt in
                guard attempt > 1 else { throw JobFailure("warming up", retryable: true) }
                return [file]
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxAttempts: 2))
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "flaky")
                let job = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(5)))
                #expect(job.state == .succeeded && job.attempts == 2 && job.error == nil && job.result == [file])
                #expect(job.finishedAt != nil)
                #expect(runner.attempts(of: job.id) == 2)
            }
        }
    }

    @Test func aNonRetryableFailureFailsAtOnce() async throws {
        try await Self.withDatabase { database in
            let runner = ScriptedRunner { _, _ in throw JobFailure("the prompt is empty", retryable: false) }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxAttempts: 3))
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "bad")
                let job = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(5)))
                #expect(job.state == .failed && job.attempts == 1 && job.error == "the prompt is empty")
                #expect(runner.attempts(of: job.id) == 1)
            }
        }
    }

    @Test func anExhaustedBudgetFailsWithTheLastError() async throws {
        try await Self.withDatabase { database in
            struct Broken: Error, CustomStringConvertible {
                var description: String { "socket closed" }
            }
            let runner = ScriptedRunner { job, attempt in
                if job.payload == "plain" { throw Broken() }
                throw JobFailure("provider down (\(attempt))", retryable: true)
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 2, maxAttempts: 3))
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "down")
                // An error that is no JobFailure counts as retryable, in its own words.
                let plain = try await queue.submit(kind: "test", payload: "plain")
                let job = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(5)))
                #expect(job.state == .failed && job.attempts == 3 && job.error == "provider down (3)")
                #expect(runner.attempts(of: job.id) == 3)
                let other = try #require(try await queue.wait(for: plain.job.id, timeout: .seconds(5)))
                #expect(other.state == .failed && other.attempts == 3 && other.error == "socket closed")
            }
        }
    }

    @Test func anAttemptThatTakesTooLongFailsAndIsRetried() async throws {
        try await Self.withDatabase { database in
            let runner = ScriptedRunner { job, attempt in
                // "slow once" stalls on its first attempt only; "stuck" on every one.
                if job.payload == "stuck" || attempt == 1 { try await Task.sleep(for: .seconds(30)) }
                return []
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 2, timeout: .milliseconds(300), maxAttempts: 2))
            try await JobTesting.running(queue) { queue in
                let started = ContinuousClock.now
                let slowOnce = try await queue.submit(kind: "test", payload: "slow once")
                let stuck = try await queue.submit(kind: "test", payload: "stuck")
                let retried = try #require(try await queue.wait(for: slowOnce.job.id, timeout: .seconds(5)))
                #expect(retried.state == .succeeded && retried.attempts == 2)
                let failed = try #require(try await queue.wait(for: stuck.job.id, timeout: .seconds(5)))
                #expect(failed.state == .failed && failed.attempts == 2)
                #expect(failed.error?.contains("took longer") == true)
                #expect(runner.attempts(of: stuck.job.id) == 2)
                // The stalled attempts were cut off, not waited out.
                #expect(ContinuousClock.now - started < .seconds(5))
            }
        }
    }

    // MARK: Lane metrics

    @Test func aRetriedAttemptWaitsFromItsRequeueNotFromTheJobsFirstQueueing() async throws {
        try await Self.withDatabase { database in
            let recorded = TestMetrics()
            let runner = ScriptedRunner { _, attempt in
                guard attempt > 1 else {
                    // A first attempt that runs a while before it fails: not waiting time.
                    try await Task.sleep(for: .milliseconds(800))
                    throw JobFailure("warming up", retryable: true)
                }
                return []
            }
            let queue = JobQueue(
                store: JobStore(database: database), settings: .init(maxAttempts: 2), runners: ["test": runner], metrics: HubMetrics(factory: recorded),
                logger: JobTesting.logger)
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "flaky")
                #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.attempts == 2)
                let waits = try recorded.expectTimer("hub_lane_wait_seconds", [("lane", "batch")]).values
                let runs = try recorded.expectTimer("hub_lane_run_seconds", [("lane", "batch")]).values
                #expect(waits.count == 2 && runs.count == 2, "waits \(waits), runs \(runs)")
                // Counted from the job's creation, the second wait would hold the first run.
                #expect(runs.first.map { $0 >= 800_000_000 } == true, "\(runs)")
                #expect(waits.count == 2 && waits[1] < runs[0], "waits \(waits), runs \(runs)")
            }
        }
    }

    @Test func anAttemptAnEarlierRunPutBackWaitsFromThisRunsStart() async throws {
        try await Self.withDatabase { database in
            // A job queued an hour ago, whose attempt a killed hub left running.
            let store = JobStore(database: database)
            let anHourAgo = Date().addingTimeInterval(-3600)
            let job = JobRecord(id: JobRecord.makeID(), kind: "test", priority: .normal, payload: "interrupted", maxAttempts: 2, createdAt: anHourAgo)
            try await store.insert(job)
            #expect(try await store.claimNext(now: anHourAgo.addingTimeInterval(1), aging: .seconds(60))?.id == job.id)
            // And one queued an hour ago that never ran: it has waited all that time.
            let waiting = JobRecord(id: JobRecord.makeID(), kind: "test", priority: .low, payload: "waiting", maxAttempts: 2, createdAt: anHourAgo)
            try await store.insert(waiting)
            let recorded = TestMetrics()
            let queue = JobQueue(
                store: store, settings: .init(maxConcurrent: 1), runners: ["test": ScriptedRunner()], metrics: HubMetrics(factory: recorded),
                logger: JobTesting.logger)
            try await JobTesting.running(queue) { queue in
                #expect(try await queue.wait(for: job.id, timeout: .seconds(5))?.attempts == 2)
                #expect(try await queue.wait(for: waiting.id, timeout: .seconds(5))?.attempts == 1)
                let waits = try recorded.expectTimer("hub_lane_wait_seconds", [("lane", "batch")]).values
                // Taken in order: the interrupted job (normal) first, then the low one.
                #expect(waits.count == 2, "\(waits)")
                #expect(waits.first.map { $0 < 60_000_000_000 } == true, "the interrupted attempt waited since this start: \(waits)")
                #expect(waits.last.map { $0 >= 3_600_000_000_000 } == true, "the first attempt waited since its queueing: \(waits)")
            }
        }
    }

    @Test func theDepthGaugesEndAtZeroWhenJobsFinishTogether() async throws {
        try await Self.withDatabase { database in
            let recorded = TestMetrics()
            let gates = Locked<[String: CancellableGate]>([:])
            let runner = ScriptedRunner { job, _ in
                try await gates.withLock { $0[job.payload, default: CancellableGate()] }.wait()
                return []
            }
            let queue = JobQueue(
                store: JobStore(database: database), settings: .init(maxConcurrent: 2), runners: ["test": runner], metrics: HubMetrics(factory: recorded),
                logger: JobTesting.logger)
            try await JobTesting.running(queue) { queue in
                // Two jobs end at once, round after round: the loop looking for a third holds a
                // slot for a moment while one ends; the gauge must still come back to 0.
                for round in 0..<40 {
                    let gate = CancellableGate()
                    let names = ["\(round) a", "\(round) b"]
                    gates.withLock { for name in names { $0[name] = gate } }
                    let tickets = [try await queue.submit(kind: "test", payload: names[0]), try await queue.submit(kind: "test", payload: names[1])]
                    try await eventually { runner.order.filter(names.contains).count == 2 }
                    gate.open()
                    for ticket in tickets { #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.state == .succeeded) }
                    try await eventually { queue.snapshot.running == 0 }
                    let running = try recorded.expectGauge("hub_lane_running", [("lane", "batch")]).lastValue
                    try #require(running == 0, "round \(round): hub_lane_running is \(String(describing: running)) with nothing running")
                }
            }
        }
    }

    // MARK: Cancelling

    @Test func aCancelledQueuedJobNeverRuns() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1))
            try await JobTesting.running(queue) { queue in
                _ = try await queue.submit(kind: "test", payload: "blocker")
                #expect(await runner.starts.next(1) == ["blocker"])
                let doomed = try await queue.submit(kind: "test", payload: "doomed", priority: .high)
                let cancelled = try #require(try await queue.cancel(doomed.job.id))
                #expect(cancelled.state == .cancelled && cancelled.attempts == 0 && cancelled.finishedAt != nil)
                #expect(queue.snapshot.queued == 0)
                #expect(try await queue.wait(for: doomed.job.id, timeout: .seconds(5))?.state == .cancelled)
                gate.open()
                // A job queued after it runs; had the cancelled one been taken, it would have run first.
                let next = try await queue.submit(kind: "test", payload: "next", priority: .low)
                #expect(try await queue.wait(for: next.job.id, timeout: .seconds(5))?.state == .succeeded)
                #expect(runner.order == ["blocker", "next"])
                #expect(try await queue.store.job(doomed.job.id)?.state == .cancelled)
            }
        }
    }

    @Test func cancellingARunningJobCancelsItsTask() async throws {
        try await Self.withDatabase { database in
            let never = CancellableGate()
            let ended = Locked<[String]>([])
            let runner = ScriptedRunner { job, _ in
                do {
                    try await never.wait()
                } catch {
                    ended.withLock { $0.append("\(job.payload): \(type(of: error))") }
                    throw error
                }
                return []
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1, maxAttempts: 3))
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "long", origin: "{}")
                #expect(await runner.starts.next(1) == ["long"])
                let cancelled = try #require(try await queue.cancel(ticket.job.id))
                #expect(cancelled.state == .cancelled && cancelled.error == "cancelled" && cancelled.attempts == 1)
                #expect(ended.value == ["long: CancellationError"])
                // Not tried again, though it had budget left, and the lane is free.
                #expect(runner.attempts(of: ticket.job.id) == 1)
                // (The loop may be looking for a next job for a moment, holding a slot while it does.)
                try await eventually { queue.snapshot.running == 0 }
                #expect(try await queue.store.undelivered().isEmpty)
            }
        }
    }

    @Test func cancellingAFinishedJobChangesNothing() async throws {
        try await Self.withDatabase { database in
            let queue = JobTesting.queue(database, runner: ScriptedRunner())
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "quick")
                let finished = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(5)))
                #expect(finished.state == .succeeded)
                #expect(try await queue.cancel(ticket.job.id) == finished)
                #expect(try await queue.store.job(ticket.job.id) == finished)
                #expect(try await queue.cancel(JobRecord.makeID()) == nil)
            }
        }
    }

    // MARK: Waiting

    @Test func waitReturnsTheJobWhenItFinishes() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner)
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "blocker")
                #expect(await runner.starts.next(1) == ["blocker"])
                let waiter = Task { try await queue.wait(for: ticket.job.id, timeout: .seconds(20)) }
                // Most likely waiting by now; if not, it finds the job finished, which is fine too.
                try await Task.sleep(for: .milliseconds(100))
                gate.open()
                let started = ContinuousClock.now
                let job = try await waiter.value
                #expect(job?.state == .succeeded)
                #expect(ContinuousClock.now - started < .seconds(5))
                // A finished job is returned at once.
                #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(20)) == job)
            }
        }
    }

    @Test func waitReturnsTheUnfinishedJobAfterTheTimeout() async throws {
        try await Self.withDatabase { database in
            let gate = CancellableGate()
            let runner = Self.blockingRunner(gate)
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1))
            try await JobTesting.running(queue) { queue in
                let running = try await queue.submit(kind: "test", payload: "blocker")
                #expect(await runner.starts.next(1) == ["blocker"])
                let queued = try await queue.submit(kind: "test", payload: "after")
                let started = ContinuousClock.now
                #expect(try await queue.wait(for: running.job.id, timeout: .milliseconds(150))?.state == .running)
                #expect(try await queue.wait(for: queued.job.id, timeout: .milliseconds(150))?.state == .queued)
                #expect(ContinuousClock.now - started >= .milliseconds(300))
                #expect(try await queue.wait(for: JobRecord.makeID(), timeout: .seconds(20)) == nil)
                gate.open()
            }
        }
    }

    // MARK: Restarts and shutdown

    @Test func jobsLeftRunningByAKilledHubRunExactlyOnceOnTheNextStart() async throws {
        try await Self.withDatabase { database in
            // The killed hub had claimed one job and queued another.
            let store = JobStore(database: database)
            let now = Date()
            let interrupted = JobRecord(
                id: JobRecord.makeID(), kind: "test", priority: .normal, payload: "interrupted", maxAttempts: 2, createdAt: now)
            let waiting = JobRecord(id: JobRecord.makeID(), kind: "test", priority: .low, payload: "waiting", maxAttempts: 2, createdAt: now)
            try await store.insert(interrupted)
            try await store.insert(waiting)
            #expect(try await store.claimNext(now: now, aging: .seconds(60))?.id == interrupted.id)
            let runner = ScriptedRunner()
            let queue = JobTesting.queue(database, runner: runner)
            try await JobTesting.running(queue) { queue in
                let first = try #require(try await queue.wait(for: interrupted.id, timeout: .seconds(5)))
                #expect(first.state == .succeeded && first.attempts == 2)
                #expect(try await queue.wait(for: waiting.id, timeout: .seconds(5))?.state == .succeeded)
                #expect(runner.attempts(of: interrupted.id) == 1)
                #expect(runner.attempts(of: waiting.id) == 1)
                #expect(queue.snapshot.queued == 0)
            }
        }
    }

    @Test func aJobCutOffByCancellingTheQueueRunsOnceOnTheNextStart() async throws {
        try await Self.withDatabase { database in
            let never = CancellableGate()
            let first = ScriptedRunner { _, _ in
                try await never.wait()
                return []
            }
            let queue = JobTesting.queue(database, runner: first)
            let running = Task { try await queue.run() }
            let ticket = try await queue.submit(kind: "test", payload: "cut off")
            #expect(await first.starts.next(1) == ["cut off"])
            running.cancel()
            try await withTimeLimit(.seconds(5)) { try await running.value }
            // Whether the queue managed to put it back or not, it is not over.
            let left = try #require(try await queue.store.job(ticket.job.id))
            #expect(left.state == .queued || left.state == .running)
            let second = ScriptedRunner()
            try await JobTesting.running(JobTesting.queue(database, runner: second)) { queue in
                let job = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(5)))
                #expect(job.state == .succeeded && job.attempts == 2)
                #expect(second.attempts(of: job.id) == 1)
            }
        }
    }

    @Test func aGracefulShutdownPutsTheRunningJobBackInTheQueue() async throws {
        try await Self.withDatabase { database in
            let never = CancellableGate()
            let runner = ScriptedRunner { _, _ in
                try await never.wait()
                return []
            }
            let queue = JobTesting.queue(database, runner: runner, settings: .init(maxConcurrent: 1, maxAttempts: 1))
            let tickets = Locked<[JobQueue.Ticket]>([])
            try await JobTesting.running(queue) { queue in
                let long = try await queue.submit(kind: "test", payload: "long", origin: "{}")
                #expect(await runner.starts.next(1) == ["long"])
                let waiting = try await queue.submit(kind: "test", payload: "waiting")
                tickets.withLock { $0 = [long, waiting] }
            }  // graceful shutdown here
            let (long, waiting) = (tickets.value[0].job.id, tickets.value[1].job.id)
            let stopped = try #require(try await queue.store.job(long))
            #expect(stopped.state == .queued)
            #expect(stopped.attempts == 1 && stopped.error == nil && stopped.startedAt == nil && stopped.finishedAt == nil)
            #expect(try await queue.store.job(waiting)?.state == .queued)
            // Its one attempt was cut short by the stop, not spent: the next start runs it.
            let next = ScriptedRunner()
            let delivered = Locked<[String]>([])
            let again = JobTesting.queue(database, runner: next, settings: .init(maxConcurrent: 1, maxAttempts: 1))
            again.deliver { job in
                delivered.withLock { $0.append(job.payload) }
                return true
            }
            try await JobTesting.running(again) { queue in
                #expect(try await queue.wait(for: long, timeout: .seconds(5))?.state == .succeeded)
                #expect(try await queue.wait(for: waiting, timeout: .seconds(5))?.state == .succeeded)
                try await eventually { try await queue.store.job(long)?.deliveredAt != nil }
            }
            #expect(next.order == ["long", "waiting"])
            #expect(delivered.value == ["long"])
        }
    }

    // MARK: Delivery

    @Test func finishedJobsAChatAskedForAreDeliveredOnce() async throws {
        try await Self.withDatabase { database in
            let runner = ScriptedRunner { job, _ in
                if job.payload.hasPrefix("fail") { throw JobFailure("no luck", retryable: false) }
                return []
            }
            let queue = JobTesting.queue(database, runner: runner)
            let delivered = Locked<[String: [JobRecord]]>([:])
            queue.deliver { job in
                delivered.withLock { $0[job.id, default: []].append(job) }
                return true
            }
            try await JobTesting.running(queue) { queue in
                let asked = try await queue.submit(kind: "test", payload: "asked", origin: #"{"id":"m1"}"#)
                let failed = try await queue.submit(kind: "test", payload: "failing", origin: #"{"id":"m2"}"#)
                let api = try await queue.submit(kind: "test", payload: "api")
                for ticket in [asked, failed, api] { _ = try await queue.wait(for: ticket.job.id, timeout: .seconds(5)) }
                try await eventually { try await queue.store.undelivered().isEmpty && delivered.value.count == 2 }
                #expect(delivered.value[asked.job.id]?.map(\.state) == [.succeeded])
                #expect(delivered.value[asked.job.id]?.first?.origin == #"{"id":"m1"}"#)
                #expect(delivered.value[failed.job.id]?.map(\.state) == [.failed])
                #expect(delivered.value[failed.job.id]?.first?.error == "no luck")
                #expect(delivered.value[api.job.id] == nil)
                #expect(try await queue.store.job(asked.job.id)?.deliveredAt != nil)
                #expect(try await queue.store.job(api.job.id)?.deliveredAt == nil)
            }
        }
    }

    @Test func undeliveredJobsAreDeliveredWhenTheNextQueueStartsAndOnlyOnce() async throws {
        try await Self.withDatabase { database in
            let store = JobStore(database: database)
            let now = Date()
            let first = JobTesting.finished("first", finishedAt: now - 30)
            let second = JobTesting.finished("second", state: .failed, finishedAt: now - 20)
            let delivered = JobTesting.finished("delivered", finishedAt: now - 25, deliveredAt: now - 24)
            let api = JobTesting.finished("api", origin: nil, finishedAt: now - 25)
            let cancelled = JobTesting.finished("cancelled", state: .cancelled, finishedAt: now - 25)
            for job in [second, first, delivered, api, cancelled] { try await store.insert(job) }

            let calls = Locked<[String]>([])
            let queue = JobTesting.queue(database, runner: ScriptedRunner())
            queue.deliver { job in
                calls.withLock { $0.append(job.payload) }
                return true
            }
            try await JobTesting.running(queue) { _ in
                try await eventually { try await store.job(second.id)?.deliveredAt != nil }
            }
            // Oldest first; the rest had reached their chat already, or had none, or were cancelled.
            #expect(calls.value == ["first", "second"])
            #expect(try await store.job(first.id)?.deliveredAt != nil)

            // The next start delivers only what is new; the list is read once, oldest first, so
            // had the first two been on it they would have come before "third".
            let third = JobTesting.finished("third", finishedAt: now - 10)
            try await store.insert(third)
            let later = Locked<[String]>([])
            let again = JobTesting.queue(database, runner: ScriptedRunner())
            again.deliver { job in
                later.withLock { $0.append(job.payload) }
                return true
            }
            try await JobTesting.running(again) { _ in
                try await eventually { try await store.job(third.id)?.deliveredAt != nil }
            }
            #expect(later.value == ["third"])
        }
    }

    @Test func aDeliveryThatDidNotArriveIsTriedAgainOnTheNextStart() async throws {
        try await Self.withDatabase { database in
            let refused = Locked<[String]>([])
            let queue = JobTesting.queue(database, runner: ScriptedRunner())
            queue.deliver { job in
                refused.withLock { $0.append(job.id) }
                return false  // the door was down
            }
            let id = Locked("")
            try await JobTesting.running(queue) { queue in
                let ticket = try await queue.submit(kind: "test", payload: "picture", origin: "{}")
                id.withLock { $0 = ticket.job.id }
                #expect(try await queue.wait(for: ticket.job.id, timeout: .seconds(5))?.state == .succeeded)
                try await eventually { !refused.value.isEmpty }
            }
            #expect(try await queue.store.job(id.value)?.deliveredAt == nil)
            #expect(try await queue.store.undelivered().map(\.id) == [id.value])

            let taken = Locked<[String]>([])
            let again = JobTesting.queue(database, runner: ScriptedRunner())
            again.deliver { job in
                taken.withLock { $0.append(job.id) }
                return true
            }
            try await JobTesting.running(again) { queue in
                try await eventually { try await queue.store.job(id.value)?.deliveredAt != nil }
            }
            #expect(taken.value == [id.value])
        }
    }
}
