// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

/// `Retry-After` from an upstream is bounded before anything computes with it.
struct RetryAfterTests {
    @Test(arguments: [
        ("7", 7.0), (" 0 ", 0.0), ("2.5", 2.5), ("86400", 86_400), ("86401", 86_400), ("1e300", 86_400),
        ("9223372036854775807", 86_400),
    ])
    func secondsAreBounded(header: String, expected: Double) {
        #expect(RetryAfter.seconds(fromHeader: header) == expected)
    }

    @Test(arguments: ["-1", "inf", "-inf", "nan", "", "soon", "1e400x"])
    func nonsenseIsIgnored(header: String) {
        #expect(RetryAfter.seconds(fromHeader: header) == nil)
    }

    @Test func anHTTPDateCountsFromNow() {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let header = "Thu, 28 May 2026 20:27:10 GMT"  // now + 30 s
        #expect(RetryAfter.seconds(fromHeader: header, now: now) == 30)
        #expect(RetryAfter.seconds(fromHeader: header, now: now.addingTimeInterval(60)) == 0)
        #expect(RetryAfter.seconds(fromHeader: "Fri, 31 Dec 9999 23:59:59 GMT", now: now) == RetryAfter.limit)
    }

    @Test func anErrorNeverCarriesAnUnboundedWait() {
        #expect(ChatProviderError(kind: .httpStatus, status: 429, retryAfter: .infinity, message: "").retryAfter == nil)
        #expect(ChatProviderError(kind: .httpStatus, status: 429, retryAfter: 1e300, message: "").retryAfter == RetryAfter.limit)
    }
}
