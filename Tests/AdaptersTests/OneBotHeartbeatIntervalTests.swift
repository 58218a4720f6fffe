// SPDX-License-Identifier: Apache-2.0
import Adapters
import Testing

/// A bot's reported heartbeat interval is bounded before the watchdog computes with it.
struct OneBotHeartbeatIntervalTests {
    @Test(arguments: [(Int64(5000), Int64(5000), false), (100, 100, false), (1, 100, true), (86_400_000, 86_400_000, false),
                      (10_000_000_000_000, 86_400_000, true), (.max, 86_400_000, true)])
    func reportedIntervalsAreClamped(reported: Int64, milliseconds: Int64, clamped: Bool) throws {
        let interval = try #require(OneBotHeartbeatInterval(reported: reported))
        #expect(interval.milliseconds == milliseconds)
        #expect(interval.wasClamped == clamped)
        // The watchdog's arithmetic (nanoseconds, three intervals) stays in range.
        #expect(!interval.milliseconds.multipliedReportingOverflow(by: 3_000_000).overflow)
    }

    @Test(arguments: [Int64(0), -1, .min])
    func nonPositiveIntervalsAreNone(reported: Int64) {
        #expect(OneBotHeartbeatInterval(reported: reported) == nil)
    }
}
