// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// Monotonic time in nanoseconds as a plain `UInt64`, cheap enough to read per frame.
///
/// Backed by `CLOCK_MONOTONIC` through `NIODeadline`. Plain integers keep the hot path
/// free of `Duration`'s 128-bit arithmetic.
enum Monotonic {
    /// Nanoseconds since an arbitrary fixed point (boot).
    @inline(__always)
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Nanoseconds in one second.
    static let second: UInt64 = 1_000_000_000
    /// Nanoseconds in one millisecond.
    static let millisecond: UInt64 = 1_000_000

    /// Converts seconds to nanoseconds, clamping negatives to zero.
    static func nanoseconds(seconds: Double) -> UInt64 {
        seconds <= 0 ? 0 : UInt64(seconds * 1e9)
    }

    /// Sleeps until `deadline` (monotonic ns); returns at once if it has passed.
    static func sleep(until deadline: UInt64) async throws {
        let now = now()
        guard deadline > now else { return }
        try await Task.sleep(nanoseconds: deadline - now)
    }
}
