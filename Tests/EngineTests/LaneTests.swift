// SPDX-License-Identifier: Apache-2.0
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import Engine

/// Counts jobs running at once and the highest count reached, and reports starts and ends.
private final class ConcurrencyProbe: Sendable {
    private let state = Mutex<(current: Int, highWater: Int, finished: [Int])>((0, 0, []))
    let starts: AsyncStream<Int>
    private let startsContinuation: AsyncStream<Int>.Continuation

    init() {
        (starts, startsContinuation) = AsyncStream.makeStream()
    }

    func begin(_ job: Int) {
        state.withLock { state in
            state.current += 1
            state.highWater = max(state.highWater, state.current)
        }
        startsContinuation.yield(job)
    }

    func end(_ job: Int) {
        state.withLock { state in
            state.current -= 1
            state.finished.append(job)
        }
    }

    var highWater: Int { state.withLock { $0.highWater } }
    var finished: [Int] { state.withLock { $0.finished } }
}

@Suite struct LaneTests {
    @Test func neverRunsMoreThanMaxConcurrent() async throws {
        let lane = Lane(name: "test", maxConcurrent: 3, queueLimit: 100)
        let probe = ConcurrencyProbe()
        let gate = Gate()
        for job in 0..<12 {
            #expect(
                lane.submit {
                    probe.begin(job)
                    await gate.wait()
                    probe.end(job)
                })
        }
        try await withTimeLimit(.seconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await lane.run() }
                // Wait until three jobs hold the lane; the other nine must stay queued.
                var starts = probe.starts.makeAsyncIterator()
                for _ in 0..<3 { _ = await starts.next() }
                #expect(lane.runningCount == 3)
                #expect(probe.highWater == 3)
                gate.open()
                lane.close()
                try await group.waitForAll()
            }
        }
        #expect(probe.highWater == 3)
        #expect(probe.finished.count == 12)
        #expect(lane.runningCount == 0)
        #expect(lane.queuedCount == 0)
    }

    @Test func startsJobsInFIFOOrder() async throws {
        let lane = Lane(name: "serial", maxConcurrent: 1, queueLimit: 50)
        let order = Mutex<[Int]>([])
        for job in 0..<50 { lane.submit { order.withLock { $0.append(job) } } }
        lane.close()
        try await withTimeLimit(.seconds(10)) { await lane.run() }
        #expect(order.withLock { $0 } == Array(0..<50))
    }

    /// The gauges follow the lane: a queued job shows at once, and when many jobs end together the
    /// last report is the latest state (each report is read back and repeated until it agrees).
    @Test func theDepthGaugesFollowTheLaneWhenJobsEndTogether() async throws {
        let recorded = TestMetrics()
        let lane = Lane(name: "test", maxConcurrent: 16, queueLimit: 100, metrics: HubMetrics(factory: recorded))
        @Sendable func gauge(_ label: String) throws -> Double? { try recorded.expectGauge(label, [("lane", "test")]).lastValue }
        let probe = ConcurrencyProbe()
        try await withTimeLimit(.seconds(60)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await lane.run() }
                // A failed check must not leave the lane running (the group would wait for it).
                let gates = Mutex<[Gate]>([])
                defer {
                    for gate in gates.withLock({ $0 }) { gate.open() }
                    lane.close()
                }
                var starts = probe.starts.makeAsyncIterator()
                for round in 0..<300 {
                    let gate = Gate()
                    gates.withLock { $0.append(gate) }
                    for job in 0..<17 {
                        lane.submit {
                            probe.begin(job)
                            await gate.wait()
                            probe.end(job)
                        }
                    }
                    for _ in 0..<16 { _ = await starts.next() }
                    // Sixteen run; the seventeenth waits, and the gauge says so before anything ends.
                    try await eventually { lane.queuedCount == 1 }
                    let queued = try gauge("hub_lane_queued")
                    try #require(queued == 1, "round \(round): hub_lane_queued is \(String(describing: queued))")
                    gate.open()
                    _ = await starts.next()
                    try await eventually { lane.runningCount == 0 && probe.finished.count == 17 * (round + 1) }
                    let running = try gauge("hub_lane_running")
                    try #require(running == 0, "round \(round): hub_lane_running is \(String(describing: running)) with nothing running")
                    #expect(try gauge("hub_lane_queued") == 0, "round \(round)")
                }
                lane.close()
                try await group.waitForAll()
            }
        }
    }

    @Test func refusesWhenTheQueueIsFull() {
        // Not running yet: it holds the job to start first and the two to wait behind it.
        let lane = Lane(name: "small", maxConcurrent: 1, queueLimit: 2)
        #expect(lane.submit {})
        #expect(lane.submit {})
        #expect(lane.submit {})
        #expect(!lane.submit {})
        #expect(lane.queuedCount == 3)
        #expect(lane.snapshot == LaneSnapshot(running: 0, queued: 3, maxConcurrent: 1, queueLimit: 2, refused: 1))
    }

    /// A burst that reaches an idle lane is refused only beyond `maxConcurrent` running and
    /// `queueLimit` waiting: the jobs about to start do not take the waiting ones' places.
    @Test func aBurstIsRefusedOnlyOnceRunningAndWaitingAreFull() async throws {
        let lane = Lane(name: "burst", maxConcurrent: 2, queueLimit: 2)
        let probe = ConcurrencyProbe()
        let gate = Gate()
        try await withTimeLimit(.seconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await lane.run() }
                defer { gate.open() }
                // The lane runs: a first job has come and gone.
                var starts = probe.starts.makeAsyncIterator()
                lane.submit {
                    probe.begin(0)
                    probe.end(0)
                }
                #expect(await starts.next() == 0)
                let accepted = (1...4).map { job in
                    lane.submit {
                        probe.begin(job)
                        await gate.wait()
                        probe.end(job)
                    }
                }
                #expect(accepted == [true, true, true, true])
                #expect(!lane.submit {})
                for _ in 0..<2 { _ = await starts.next() }
                while lane.queuedCount > 2 {
                    try Task.checkCancellation()
                    await Task.yield()
                }
                #expect(lane.snapshot == LaneSnapshot(running: 2, queued: 2, maxConcurrent: 2, queueLimit: 2, refused: 1))
                // As the running jobs end, the waiting ones start; a place is free again once one has ended.
                gate.open()
                while probe.finished.count < 5 {
                    try Task.checkCancellation()
                    await Task.yield()
                }
                #expect(lane.submit {})
                lane.close()
                try await group.waitForAll()
            }
        }
        #expect(probe.highWater == 2)
        #expect(probe.finished.sorted() == [0, 1, 2, 3, 4])
        #expect(lane.snapshot.refused == 1)
    }

    @Test func closeFinishesQueuedJobsAndRefusesNewOnes() async throws {
        let lane = Lane(name: "closing", maxConcurrent: 2, queueLimit: 10)
        let done = Atomic<Int>(0)
        for _ in 0..<10 { lane.submit { done.add(1, ordering: .relaxed) } }
        lane.close()
        #expect(!lane.submit {})
        try await withTimeLimit(.seconds(10)) { await lane.run() }
        #expect(done.load(ordering: .relaxed) == 10)
    }

    @Test func gracefulShutdownFinishesQueuedJobs() async throws {
        let lane = Lane(name: "realtime", maxConcurrent: 1, queueLimit: 10)
        let probe = ConcurrencyProbe()
        let gate = Gate()
        for job in 0..<5 {
            lane.submit {
                probe.begin(job)
                await gate.wait()
                probe.end(job)
            }
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [lane], gracefulShutdownSignals: [], logger: Logger(label: "lane-test")))
        try await withTimeLimit(.seconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await serviceGroup.run() }
                var starts = probe.starts.makeAsyncIterator()
                #expect(await starts.next() == 0)
                await serviceGroup.triggerGracefulShutdown()
                gate.open()
                try await group.waitForAll()
            }
        }
        // Every job queued before the shutdown ran, in order, and the lane takes no more.
        #expect(probe.finished == [0, 1, 2, 3, 4])
        #expect(!lane.submit {})
    }
}
