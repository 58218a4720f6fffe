// SPDX-License-Identifier: Apache-2.0

/// Counters and latencies of one measurement phase, per connection or merged over all.
struct PhaseStats: Sendable {
    /// Events written (or attempted) in this phase.
    var sent = 0
    /// Events answered by a message action for the same user.
    var replies = 0
    /// Events with no reply within the per-event timeout.
    var timeouts = 0
    /// Events lost because their connection failed or closed.
    var errors = 0
    /// Message actions for a user with no event in flight (late after a timeout, or extra).
    var unmatched = 0
    /// Actions other than message replies (`get_login_info`, …), all answered.
    var otherActions = 0
    /// Events answered with a refusal instead of a reply (a web `error` frame, a non-2xx HTTP
    /// status), counted by reason.
    var refusals: [String: Int] = [:]
    /// Reply latencies in µs.
    var latency = LatencyHistogram()
    /// Streamed answers: latency to the first piece in µs.
    var firstPiece = LatencyHistogram()
    /// Monotonic ns of the first send (scheduled time in open loop), if any.
    var firstStart: UInt64?
    /// Monotonic ns of the last completion (reply or timeout).
    var lastCompletion: UInt64 = 0

    /// Notes that an event started at `start`.
    mutating func noteSent(start: UInt64) {
        sent += 1
        if firstStart.map({ start < $0 }) ?? true { firstStart = start }
    }

    /// Records a reply at `now` to an event that started at `start`.
    mutating func noteReply(start: UInt64, now: UInt64) {
        replies += 1
        latency.record(microseconds: now > start ? (now - start) / 1_000 : 0)
        if now > lastCompletion { lastCompletion = now }
    }

    /// Records a refusal for `reason` at `now`.
    mutating func noteRefusal(reason: String, now: UInt64) {
        refusals[reason, default: 0] += 1
        if now > lastCompletion { lastCompletion = now }
    }

    /// All refusals.
    var refused: Int { refusals.values.reduce(0, +) }

    /// Records a timed-out event.
    mutating func noteTimeout(now: UInt64) {
        timeouts += 1
        if now > lastCompletion { lastCompletion = now }
    }

    /// Adds `other` into this.
    mutating func merge(_ other: PhaseStats) {
        sent += other.sent
        replies += other.replies
        timeouts += other.timeouts
        errors += other.errors
        unmatched += other.unmatched
        otherActions += other.otherActions
        refusals.merge(other.refusals, uniquingKeysWith: +)
        latency.merge(other.latency)
        firstPiece.merge(other.firstPiece)
        if let start = other.firstStart, firstStart.map({ start < $0 }) ?? true { firstStart = start }
        lastCompletion = max(lastCompletion, other.lastCompletion)
    }
}
