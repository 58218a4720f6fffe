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

    /// Found by the `headers` fuzz target: swift-corelibs-foundation's DateFormatter stops with
    /// "Incorrect range" when its parse ends inside a grapheme cluster, as before a combining mark.
    /// An HTTP date is printable ASCII, so anything else is refused before it gets there.
    @Test(arguments: [
        "Wed\u{301}", "W\u{301}ed", "Wed, 21\u{301}", "Wed, 21 Oct 2015 07:28:00 GMT\u{301}",
        String(decoding: Array("Wed, 21".utf8) + [0xD9, 0xB0, 0x9C, 0x8B, 0xDF, 0xCD, 0xCF, 0xCE] + Array("64BFA50-CSBi\"}".utf8), as: UTF8.self),
        "Wed,\u{0}21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT\u{7F}",
    ])
    func aDateThatIsNotPrintableASCIIIsIgnored(header: String) {
        #expect(RetryAfter.seconds(fromHeader: header) == nil)
    }

    @Test func anErrorNeverCarriesAnUnboundedWait() {
        #expect(ChatProviderError(kind: .httpStatus, status: 429, retryAfter: .infinity, message: "").retryAfter == nil)
        #expect(ChatProviderError(kind: .httpStatus, status: 429, retryAfter: 1e300, message: "").retryAfter == RetryAfter.limit)
    }
}
