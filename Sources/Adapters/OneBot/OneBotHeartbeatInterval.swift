// SPDX-License-Identifier: Apache-2.0

/// The heartbeat interval a bot reports in its `heartbeat` meta events, bounded before the
/// watchdog does arithmetic with it.
///
/// Implementations send 5,000 to 60,000 ms; a bot can send any integer. A non-positive value is
/// ignored; a value outside ``range`` is clamped into it (and the caller logs it), so the watchdog's
/// nanosecond arithmetic can never overflow.
public struct OneBotHeartbeatInterval: Sendable, Hashable {
    /// The intervals the watchdog works with: 100 ms to one day.
    public static let range: ClosedRange<Int64> = 100...86_400_000

    /// The interval in milliseconds, within ``range``.
    public let milliseconds: Int64
    /// Whether the reported value was outside ``range``.
    public let wasClamped: Bool

    /// nil when `reported` is zero or negative (no heartbeat interval).
    public init?(reported: Int64) {
        guard reported > 0 else { return nil }
        milliseconds = min(max(reported, Self.range.lowerBound), Self.range.upperBound)
        wasClamped = milliseconds != reported
    }
}
