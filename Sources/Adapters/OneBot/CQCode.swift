// SPDX-License-Identifier: Apache-2.0
import Engine

/// The OneBot 11 CQ string form of a message (`hi [CQ:face,id=178]`), in both directions.
///
/// Implements ONEBOT11.md §4.2. Everything is done on UTF-8 bytes, never on Swift `Character`s: every
/// delimiter and entity is ASCII, while a `Character` can glue a `]` to the combining mark after it
/// (`"]\u{301}"` is one `Character`) or hide a `\r` inside `"\r\n"`.
///
/// Round trip: `parse(serialize(m)) == normalize(m)` whenever the types and keys in `m` are well formed
/// (types non-empty without `,` or `]`; keys non-empty without `=`, `,` or `]` and without surrounding
/// whitespace). Types and keys are written and read verbatim; only text and values are escaped.
public enum CQCode {
    // MARK: Parsing

    /// Splits a CQ string into segments.
    ///
    /// - Text between codes is unescaped; empty text is dropped, so `""` gives `[]`.
    /// - Parameter values are unescaped, kept as `.string` and never trimmed; a value may contain `=`
    ///   (`title=a=b`) and a raw `[`, and ends at the first `,` or `]`.
    /// - Keys are trimmed of surrounding whitespace. Duplicate keys stay, in order (the segment's
    ///   subscript returns the first).
    /// - A candidate that is unterminated or malformed (empty type, a parameter without `=`, a key
    ///   that is empty after trimming) is literal text, and scanning goes on after its `[`.
    public static func parse(_ message: String) -> [OneBotSegment] {
        let bytes = Array(message.utf8)
        var segments: [OneBotSegment] = []
        var textStart = 0
        var searchFrom = 0
        while let start = nextOpener(in: bytes, from: searchFrom) {
            switch scanCode(bytes, at: start) {
            case .code(let segment, let end):
                appendText(bytes[textStart..<start], to: &segments)
                segments.append(segment)
                textStart = end
                searchFrom = end
            case .literal(let resumeAt):
                searchFrom = resumeAt
            }
        }
        appendText(bytes[textStart...], to: &segments)
        return segments
    }

    private enum Scan {
        /// A code, and the index just past its `]`.
        case code(OneBotSegment, end: Int)
        /// Not a code; no code can start before `resumeAt` either.
        case literal(resumeAt: Int)
    }

    /// Reads the code whose `[CQ:` is at `start`.
    ///
    /// When the candidate fails, the rules say to look for the next `[CQ:` right after its `[`. A `[CQ:`
    /// inside the type or a value of the failed candidate would run through the same delimiters and
    /// fail the same way, and running out of input means no `]` is left for any later code. So only
    /// the parameter being read at the failure can hold a new start, and the search resumes there.
    /// The result is the same; parsing stays linear on input such as `[CQ:a,b=[CQ:a,b=[CQ:a,b=…`.
    private static func scanCode(_ bytes: [UInt8], at start: Int) -> Scan {
        var cursor = start + opener.count
        let type = read(bytes, &cursor) { $0 == comma || $0 == close }
        guard cursor < bytes.count else { return .literal(resumeAt: bytes.count) }
        guard !type.isEmpty else { return .literal(resumeAt: cursor) }

        var data: [(key: String, value: JSONValue)] = []
        while bytes[cursor] == comma {
            let keyStart = cursor + 1
            cursor = keyStart
            let rawKey = read(bytes, &cursor) { $0 == equals || $0 == comma || $0 == close }
            guard cursor < bytes.count else { return .literal(resumeAt: bytes.count) }
            let key = trimmingWhitespace(String(decoding: bytes[rawKey], as: UTF8.self))
            guard bytes[cursor] == equals, !key.isEmpty else { return .literal(resumeAt: keyStart) }
            cursor += 1
            let value = read(bytes, &cursor) { $0 == comma || $0 == close }
            guard cursor < bytes.count else { return .literal(resumeAt: bytes.count) }
            data.append((key, .string(unescape(bytes[value]))))
        }
        let segment = OneBotSegment(type: String(decoding: bytes[type], as: UTF8.self), data: data)
        return .code(segment, end: cursor + 1)
    }

    /// The index of the next `[CQ:` at or after `index`.
    private static func nextOpener(in bytes: [UInt8], from index: Int) -> Int? {
        var candidate = index
        while candidate + opener.count <= bytes.count {
            if bytes[candidate..<candidate + opener.count].elementsEqual(opener) { return candidate }
            candidate += 1
        }
        return nil
    }

    /// Moves `cursor` to the first byte that `isStop` accepts (or to the end); returns the bytes passed.
    private static func read(_ bytes: [UInt8], _ cursor: inout Int, until isStop: (UInt8) -> Bool) -> Range<Int> {
        let start = cursor
        while cursor < bytes.count, !isStop(bytes[cursor]) { cursor += 1 }
        return start..<cursor
    }

    /// Appends `raw` unescaped as a text segment, unless it is empty.
    private static func appendText(_ raw: ArraySlice<UInt8>, to segments: inout [OneBotSegment]) {
        if !raw.isEmpty { segments.append(.text(unescape(raw))) }
    }

    /// `string` without leading and trailing Unicode whitespace scalars.
    private static func trimmingWhitespace(_ string: String) -> String {
        let scalars = string.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(Substring(scalars[first...last]))
    }

    // MARK: Serialising

    /// Joins segments into a CQ string.
    ///
    /// `text` segments become their text-escaped text. Every other segment becomes
    /// `[CQ:type,key=value,…]` with its parameters in order, values stringified with
    /// `JSONValue.textValue` (numbers in decimal, booleans `true`/`false`, arrays and objects as
    /// compact JSON) and value-escaped; null values are left out, and no data gives `[CQ:type]`.
    public static func serialize(_ segments: [OneBotSegment]) -> String {
        var out = ""
        for segment in segments {
            if segment.type == "text" {
                out += escapeText(text(of: segment))
                continue
            }
            out += "[CQ:" + segment.type
            for field in segment.data {
                guard let value = field.value.textValue else { continue }
                out += "," + field.key + "=" + escapeValue(value)
            }
            out += "]"
        }
        return out
    }

    /// What `parse(serialize(segments))` gives: adjacent text segments merged, empty text dropped,
    /// every value stringified as `serialize` does it, null values dropped.
    public static func normalize(_ segments: [OneBotSegment]) -> [OneBotSegment] {
        var result: [OneBotSegment] = []
        var pendingText = ""
        for segment in segments {
            if segment.type == "text" {
                pendingText += text(of: segment)
                continue
            }
            if !pendingText.isEmpty { result.append(.text(pendingText)) }
            pendingText = ""
            let data = segment.data.compactMap { field in
                field.value.textValue.map { (key: field.key, value: JSONValue.string($0)) }
            }
            result.append(OneBotSegment(type: segment.type, data: data))
        }
        if !pendingText.isEmpty { result.append(.text(pendingText)) }
        return result
    }

    /// The text of a `text` segment, stringified like a value (a missing `text` is empty).
    private static func text(of segment: OneBotSegment) -> String {
        segment["text"]?.textValue ?? ""
    }

    // MARK: Escaping

    /// Escapes text outside codes: `&` → `&amp;`, `[` → `&#91;`, `]` → `&#93;`. Commas stay.
    public static func escapeText(_ text: String) -> String {
        escape(text, commas: false)
    }

    /// Escapes a parameter value: as ``escapeText(_:)``, plus `,` → `&#44;`.
    public static func escapeValue(_ value: String) -> String {
        escape(value, commas: true)
    }

    /// Decodes `&amp;`, `&#91;`, `&#93;` and `&#44;` in one left-to-right pass, so `&amp;#91;` gives
    /// `&#91;`, not `[`. Any other entity, and a lone `&`, stays as it is.
    public static func unescape(_ string: String) -> String {
        unescape(Array(string.utf8)[...])
    }

    private static func escape(_ string: String, commas: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case ampersand: out += "&amp;".utf8
            case open: out += "&#91;".utf8
            case close: out += "&#93;".utf8
            case comma where commas: out += "&#44;".utf8
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == ampersand,
                let entity = entities.first(where: { bytes[index...].starts(with: $0.entity) })
            {
                out.append(entity.byte)
                index += entity.entity.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let entities: [(entity: [UInt8], byte: UInt8)] = [
        (Array("&amp;".utf8), UInt8(ascii: "&")),
        (Array("&#91;".utf8), UInt8(ascii: "[")),
        (Array("&#93;".utf8), UInt8(ascii: "]")),
        (Array("&#44;".utf8), UInt8(ascii: ",")),
    ]

    private static let opener = Array("[CQ:".utf8)
    private static let ampersand = UInt8(ascii: "&")
    private static let open = UInt8(ascii: "[")
    private static let close = UInt8(ascii: "]")
    private static let comma = UInt8(ascii: ",")
    private static let equals = UInt8(ascii: "=")
}
