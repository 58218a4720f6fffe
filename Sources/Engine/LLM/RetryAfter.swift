// SPDX-License-Identifier: Apache-2.0
import Foundation

/// An upstream's `Retry-After` header, parsed into a bounded number of seconds.
///
/// RFC 9110 allows a whole number of seconds or an HTTP date. Anything else (negative, not finite,
/// unparseable) is ignored; a value above ``limit`` is clamped to it, so no number an upstream
/// sends can reach arithmetic unchecked (`Int64(1e300 * 1000)` traps).
public enum RetryAfter {
    /// The longest wait taken from an upstream: one day.
    public static let limit: Double = 86_400

    /// The seconds to wait, or nil when the header is absent or not a valid value.
    public static func seconds(fromHeader header: String?, now: Date = Date()) -> Double? {
        guard let header else { return nil }
        let text = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) {
            return bounded(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        return bounded(max(0, date.timeIntervalSince(now)))
    }

    /// `seconds` clamped into `0...limit`; nil when it is negative or not a finite number.
    public static func bounded(_ seconds: Double) -> Double? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        return min(seconds, limit)
    }

    private static func httpDate(_ text: String) -> Date? {
        // An HTTP date is printable ASCII. Anything else must not reach DateFormatter: Foundation
        // traps ("Incorrect range") when its parse stops inside a grapheme cluster, as before a
        // combining mark (`Wed\u{301}, 21 Oct …`), which would let an upstream crash the hub.
        guard text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
