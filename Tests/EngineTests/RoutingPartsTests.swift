// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

struct CircuitBreakerTests {
    let start = ContinuousClock.now

    @Test func opensAtTheThresholdProbesHalfOpenAndCloses() {
        var breaker = CircuitBreaker(settings: .init(failureThreshold: 3, recoveryTimeout: .seconds(10), halfOpenMaxCalls: 2))
        for _ in 0..<2 {
            let granted1 = breaker.tryAcquire(at: start)
            #expect(granted1)
            breaker.recordFailure(at: start)
        }
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        breaker.recordSuccess(at: start)  // a success resets the count
        for _ in 0..<3 {
            let granted2 = breaker.tryAcquire(at: start)
            #expect(granted2)
            breaker.recordFailure(at: start)
        }
        #expect(breaker.state.name == "open")
        let granted3 = breaker.tryAcquire(at: start + .seconds(9))
        #expect(!granted3)
        #expect(!breaker.isAvailable(at: start + .seconds(9)))
        // Recovery: two trial calls, no third while they run.
        let granted4 = breaker.tryAcquire(at: start + .seconds(10))
        #expect(granted4)
        let granted5 = breaker.tryAcquire(at: start + .seconds(10))
        #expect(granted5)
        let granted6 = breaker.tryAcquire(at: start + .seconds(10))
        #expect(!granted6)
        breaker.recordSuccess(at: start + .seconds(11))
        #expect(breaker.state.name == "half_open")
        breaker.recordSuccess(at: start + .seconds(11))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func aFailedProbeOpensAgain() {
        var breaker = CircuitBreaker(settings: .init(failureThreshold: 1, recoveryTimeout: .seconds(5), halfOpenMaxCalls: 3))
        _ = breaker.tryAcquire(at: start)
        breaker.recordFailure(at: start)
        let granted7 = breaker.tryAcquire(at: start + .seconds(5))
        #expect(granted7)
        breaker.recordFailure(at: start + .seconds(6))
        #expect(breaker.state == .open(until: start + .seconds(11)))
        let granted8 = breaker.tryAcquire(at: start + .seconds(10))
        #expect(!granted8)
    }

    @Test func aReleasedProbeGivesItsSlotBack() {
        var breaker = CircuitBreaker(settings: .init(failureThreshold: 1, recoveryTimeout: .seconds(1), halfOpenMaxCalls: 1))
        _ = breaker.tryAcquire(at: start)
        breaker.recordFailure(at: start)
        let granted9 = breaker.tryAcquire(at: start + .seconds(1))
        #expect(granted9)
        let granted10 = breaker.tryAcquire(at: start + .seconds(1))
        #expect(!granted10)
        breaker.release()
        let granted11 = breaker.tryAcquire(at: start + .seconds(1))
        #expect(granted11)
    }
}

struct RouteStatisticsTests {
    @Test func movingAverages() {
        var stats = RouteStatistics()
        #expect(stats.averageLatency == nil && stats.successRate == 1)
        stats.recordSuccess(latency: .seconds(1))
        #expect(stats.averageLatency == 1)
        stats.recordSuccess(latency: .seconds(2))
        #expect(abs(stats.averageLatency! - 1.2) < 1e-9)
        stats.recordFailure()
        #expect(abs(stats.successRate - 0.8) < 1e-9)
        #expect(stats.successes == 2 && stats.failures == 1)
    }
}

struct RoutingStrategyTests {
    func candidate(_ index: Int, priority: Int? = nil, cost: Double? = nil, latency: Double? = nil, failures: Int = 0, inFlight: Int = 0)
        -> RoutingStrategy.Candidate
    {
        var stats = RouteStatistics()
        if let latency { stats.recordSuccess(latency: .milliseconds(Int64(latency * 1000))) }
        for _ in 0..<failures { stats.recordFailure() }
        stats.inFlight = inFlight
        return .init(index: index, priority: priority, costPer1kTokens: cost, statistics: stats)
    }

    @Test func priorityThenConfigurationOrder() {
        let order = RoutingStrategy.priority.order([candidate(0), candidate(1, priority: 2), candidate(2, priority: 1), candidate(3, priority: 2)])
        #expect(order == [2, 1, 3, 0])
    }

    @Test func roundRobinRotates() {
        let candidates = [candidate(0), candidate(1), candidate(2)]
        #expect(RoutingStrategy.roundRobin.order(candidates, turn: 0) == [0, 1, 2])
        #expect(RoutingStrategy.roundRobin.order(candidates, turn: 1) == [1, 2, 0])
        #expect(RoutingStrategy.roundRobin.order(candidates, turn: 5) == [2, 0, 1])
        #expect(RoutingStrategy.roundRobin.order([], turn: 3).isEmpty)
    }

    @Test func leastBusyFirst() {
        #expect(RoutingStrategy.leastBusy.order([candidate(0, inFlight: 3), candidate(1, inFlight: 1), candidate(2, inFlight: 1)]) == [1, 2, 0])
    }

    @Test func intelligentWeighsCostLatencyAndSuccess() {
        // Cheap and fast wins when all else is equal.
        let weights = RoutingStrategy.intelligent(cost: 0.3, latency: 0.3, successRate: 0.4)
        #expect(weights.order([candidate(0, cost: 0.01, latency: 2), candidate(1, cost: 0.001, latency: 0.5)]) == [1, 0])
        // A route that keeps failing loses to a slower, dearer one when success weighs most.
        let failing = candidate(0, cost: 0.001, latency: 0.5, failures: 10)
        #expect(RoutingStrategy.intelligent(cost: 0.1, latency: 0.1, successRate: 0.8).order([failing, candidate(1, cost: 0.002, latency: 1)]) == [1, 0])
        // Only cost counts when only cost weighs.
        #expect(RoutingStrategy.intelligent(cost: 1, latency: 0, successRate: 0).order([candidate(0, cost: 3), candidate(1, cost: 1), candidate(2, cost: 2)]) == [1, 2, 0])
        // Unmeasured routes count as average, ties keep configuration order.
        #expect(weights.order([candidate(0), candidate(1)]) == [0, 1])
    }
}

struct ConcurrencyGateTests {
    @Test func neverMoreHoldersThanTheLimit() async {
        let gate = ConcurrencyGate(limit: 3)
        let peak = Locked((now: 0, peak: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<30 {
                group.addTask {
                    guard await gate.acquire(waitingUpTo: .seconds(10)) else { return }
                    peak.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    try? await Task.sleep(for: .milliseconds(5))
                    peak.withLock { $0.now -= 1 }
                    gate.release()
                }
            }
        }
        #expect(peak.value.peak == 3)
        #expect(gate.holders == 0)
    }

    @Test func aFullGateRefusesAfterTheWait() async {
        let gate = ConcurrencyGate(limit: 1)
        #expect(await gate.acquire(waitingUpTo: .zero))
        #expect(await !gate.acquire(waitingUpTo: .zero))
        let started = ContinuousClock.now
        #expect(await !gate.acquire(waitingUpTo: .milliseconds(50)))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        // A waiter gets the place as soon as it is released.
        async let waiting = gate.acquire(waitingUpTo: .seconds(5))
        try? await Task.sleep(for: .milliseconds(20))
        gate.release()
        #expect(await waiting)
        #expect(gate.holders == 1)
        gate.release()
        #expect(gate.holders == 0)
    }
}
