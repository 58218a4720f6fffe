// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The `; name=value` parameters of a header such as `Content-Type` or `Content-Disposition`.
///
/// Values are tokens or quoted strings. Inside quotes, `\"` and `\\` stand for `"` and `\`; a
/// backslash before anything else is kept, as Python's requests leaves a file name's backslashes
/// alone while httpx doubles them.
enum HeaderParameters {
    struct Parameter: Sendable, Hashable {
        /// Lower-cased.
        var name: String
        var value: String
    }

    /// The parameters in `bytes`, which start at the first `;` (or are empty); nil when they are
    /// not well-formed.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Parameter]? {
        var parameters: [Parameter] = []
        var index = bytes.startIndex
        func skipSpace() {
            while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        }
        while true {
            skipSpace()
            guard index < bytes.endIndex else { return parameters }
            guard bytes[index] == UInt8(ascii: ";") else { return nil }
            index += 1
            skipSpace()
            // An empty parameter (`;;` or a trailing `;`) is tolerated.
            if index == bytes.endIndex || bytes[index] == UInt8(ascii: ";") { continue }
            let nameStart = index
            while index < bytes.endIndex, isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart, index < bytes.endIndex, bytes[index] == UInt8(ascii: "=") else { return nil }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            index += 1
            var value: [UInt8] = []
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var closed = false
                while index < bytes.endIndex {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        index += 1
                        break
                    }
                    if byte == UInt8(ascii: "\\"), index + 1 < bytes.endIndex,
                        bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\")
                    {
                        value.append(bytes[index + 1])
                        index += 2
                        continue
                    }
                    guard byte >= 0x20 || byte == UInt8(ascii: "\t"), byte != 0x7F else { return nil }
                    value.append(byte)
                    index += 1
                }
                guard closed else { return nil }
            } else {
                while index < bytes.endIndex, bytes[index] != UInt8(ascii: ";"), bytes[index] != UInt8(ascii: " "),
                    bytes[index] != UInt8(ascii: "\t")
                {
                    let byte = bytes[index]
                    guard byte > 0x20, byte != 0x7F, byte != UInt8(ascii: "\"") else { return nil }
                    value.append(byte)
                    index += 1
                }
                guard !value.isEmpty else { return nil }
            }
            guard let text = String(validating: value, as: UTF8.self) else { return nil }
            parameters.append(Parameter(name: name, value: text))
        }
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// An RFC 8187 extended value in UTF-8 (`UTF-8'en'%E5%90%8D.wav`); nil for another charset or
    /// a malformed one.
    static func decodeExtendedValue(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        // Percent-decoded, the bytes UTF-8: Foundation's decoding refuses a stray `%` and invalid UTF-8 alike.
        return String(pieces[2]).removingPercentEncoding
    }
}
