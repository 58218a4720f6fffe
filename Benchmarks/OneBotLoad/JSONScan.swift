// SPDX-License-Identifier: Apache-2.0

/// A minimal, allocation-free JSON scanner over UTF-8 bytes.
///
/// The load generator must stay much cheaper than the hub it measures, so it never decodes a
/// whole frame. It looks up the few keys it needs (`action`, `echo`, `user_id`, `model`, …) and
/// returns the byte range of the raw value, which callers either copy verbatim (an `echo` is
/// sent back exactly as received) or interpret (a decimal `user_id`).
///
/// Lookup is by the first occurrence of `"key"` followed by `:` at any depth. This is sound
/// for well-formed JSON: inside a string value a quote is always escaped, so `"key"` cannot
/// match there, and a string value is never followed by a colon.
enum JSONScan {
    /// Returns the byte range of the raw JSON value stored under `key`, or `nil` when absent.
    ///
    /// - Parameters:
    ///   - key: the key, without quotes; ASCII only.
    ///   - bytes: a complete JSON document.
    static func rawValue(forKey key: StaticString, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let keyCount = key.utf8CodeUnitCount
        let keyStart = key.utf8Start
        let count = bytes.count
        var index = 0
        // A match needs `"` + key + `"` + `:` + at least one value byte.
        while index + keyCount + 3 < count {
            guard bytes[index] == UInt8(ascii: "\""), bytes[index + keyCount + 1] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            var same = true
            for offset in 0..<keyCount where bytes[index + 1 + offset] != keyStart[offset] {
                same = false
                break
            }
            guard same else {
                index += 1
                continue
            }
            var cursor = skipWhitespace(in: bytes, from: index + keyCount + 2)
            guard cursor < count, bytes[cursor] == UInt8(ascii: ":") else {
                index += 1
                continue
            }
            cursor = skipWhitespace(in: bytes, from: cursor + 1)
            guard cursor < count else { return nil }
            let end = endOfValue(in: bytes, from: cursor)
            return cursor..<end
        }
        return nil
    }

    /// The contents of a JSON string value without its quotes (escapes left as they are), or
    /// `nil` when the value is not a string.
    static func stringContents(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""),
              bytes[range.upperBound - 1] == UInt8(ascii: "\"")
        else { return nil }
        return (range.lowerBound + 1)..<(range.upperBound - 1)
    }

    /// Parses an integer written either as a JSON number or as a decimal string (NapCat sends
    /// string ids), or returns `nil`.
    static func int64(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var digits = range
        if let inner = stringContents(range, in: bytes) { digits = inner }
        guard !digits.isEmpty else { return nil }
        var negative = false
        var index = digits.lowerBound
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < digits.upperBound else { return nil }
        var value: Int64 = 0
        while index < digits.upperBound {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }

    /// Whether the raw value in `range` is exactly the literal `true`.
    static func isTrue(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        range.count == 4 && bytes[range.lowerBound] == UInt8(ascii: "t")
    }

    /// Copies a byte range out as a `String`.
    static func string(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private static func skipWhitespace(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return index
            }
        }
        return index
    }

    /// The index just past the value that starts at `start`: a string, an object or array
    /// (balanced, string-aware), or a scalar (number, `true`, `false`, `null`).
    private static func endOfValue(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(in: bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index = endOfString(in: bytes, from: index)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return count
        default:
            var index = start
            while index < count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"),
                     UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    return index
                default:
                    index += 1
                }
            }
            return count
        }
    }

    /// The index just past the closing quote of the string that opens at `start`.
    private static func endOfString(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return bytes.count
    }
}
