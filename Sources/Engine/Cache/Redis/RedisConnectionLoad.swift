// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// How busy one connection is, read by the pool to choose where a command goes: the requests
/// awaiting replies, and since when the oldest of them has waited.
final class RedisConnectionLoad: Sendable {
    /// A request unanswered this long means the connection is stalled on its own (a lost packet, a
    /// large value on the wire, a blocking command): Redis answers in microseconds, and the
    /// default command timeout is 500 ms. ``RedisConfiguration/stalledAfter``.
    let stalledAfter: TimeAmount

    init(stalledAfter: Duration = .milliseconds(100)) {
        self.stalledAfter = TimeAmount(stalledAfter)
    }

    /// Requests sent and not yet answered (counted by the callers).
    let inFlight = Atomic<Int>(0)
    /// When the oldest request still waiting for its reply was queued, in uptime nanoseconds;
    /// 0 when none waits (kept by the channel handler).
    private let oldestQueuedAt = Atomic<UInt64>(0)

    /// Records when the oldest waiting request was queued, or nil when none waits.
    func oldestQueued(at deadline: NIODeadline?) {
        oldestQueuedAt.store(deadline?.uptimeNanoseconds ?? 0, ordering: .relaxed)
    }

    /// Whether the oldest waiting request has waited longer than ``stalledAfter`` at `now`.
    func isStalled(at now: NIODeadline) -> Bool {
        let queued = oldestQueuedAt.load(ordering: .relaxed)
        return queued != 0 && now.uptimeNanoseconds > queued + UInt64(stalledAfter.nanoseconds)
    }
}
