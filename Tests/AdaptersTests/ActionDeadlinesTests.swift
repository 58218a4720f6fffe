// SPDX-License-Identifier: Apache-2.0
import Synchronization
import Testing

@testable import Adapters

/// One expiry loop per connection fails actions at their deadlines, in order, whatever their timeouts.
struct ActionDeadlinesTests {
    @Test func deadlinesExpireInOrderAcrossTimeouts() async throws {
        let deadlines = ActionDeadlines()
        let expired = Mutex([String]())
        let loop = Task { await deadlines.run { echo, _ in expired.withLock { $0.append(echo) } } }
        defer { loop.cancel() }
        deadlines.add(echo: "slow", timeout: .milliseconds(400))
        deadlines.add(echo: "a", timeout: .milliseconds(60))
        deadlines.add(echo: "b", timeout: .milliseconds(60))
        deadlines.add(echo: "c", timeout: .milliseconds(150))
        let limit = ContinuousClock.now + .seconds(3)
        while expired.withLock({ $0.count }) < 4, ContinuousClock.now < limit { try await Task.sleep(for: .milliseconds(10)) }
        #expect(expired.withLock { $0 } == ["a", "b", "c", "slow"])
    }

    @Test func anIdleLoopEndsWhenCancelled() async {
        let deadlines = ActionDeadlines()
        let loop = Task { await deadlines.run { _, _ in } }
        try? await Task.sleep(for: .milliseconds(20))
        loop.cancel()
        await loop.value  // returns: the idle wait honours cancellation
    }
}
