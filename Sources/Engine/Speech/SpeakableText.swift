// SPDX-License-Identifier: Apache-2.0

/// Turns a chat reply into text a speech engine can read aloud: markup is dropped, the words kept.
///
/// Removes OneBot CQ codes (`[CQ:face,id=1]`), HTML tags and entities, and Markdown syntax
/// (headings, emphasis, inline code and fences, links and images keep their text, list markers,
/// quotes, table rules). Lines become sentences, so a list is read item by item, and runs of
/// spaces collapse to one.
///
/// ```swift
/// SpeakableText.clean("**Hi** [CQ:face,id=1] <b>there</b>")  // "Hi there"
/// ```
public enum SpeakableText {
    /// `text` without markup, on one line.
    public static func clean(_ text: String) -> String {
        var text = text.replacing("\r\n", with: "\n")
        text = text.replacing(#/\[CQ:[^\]]*\]/#, with: " ")
        text = text.replacing(#/(?i)<br\s*/?>|</?(p|div|li|tr|h[1-6])(\s[^<>]*)?>/#, with: "\n")
        text = text.replacing(#/</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>/#, with: " ")
        text = decodeEntities(text)
        var sentences: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let spoken = cleanMarkdownLine(String(line))
            guard spoken.contains(where: { $0.isLetter || $0.isNumber }) else { continue }
            sentences.append(spoken.last.map(endsSentence) == true ? spoken : spoken + ".")
        }
        return sentences.joined(separator: " ")
    }

    /// One line: block markers first (fences, headings, quotes, bullets), then inline syntax.
    private static func cleanMarkdownLine(_ line: String) -> String {
        var line = line.trimmingPrefix(#/\s*(```+|~~~+)[A-Za-z0-9_+-]*/#).description
        line = line.replacing(#/^\s*(>\s*)+/#, with: "")
        line = line.replacing(#/^\s*#{1,6}\s+/#, with: "")
        line = line.replacing(#/^\s*([-*+•]|\d+[.)])\s+/#, with: "")
        line = line.replacing(#/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/#, with: "")  // a table's rule line
        line = line.replacing(#/!\[([^\]]*)\]\([^)]*\)/#) { String($0.1) }  // image: its alt text
        line = line.replacing(#/\[([^\]]*)\]\([^)]*\)/#) { String($0.1) }  // link: its text
        line = line.replacing(#/(\*\*|__|~~|`+)/#, with: "")
        line = line.replacing(#/(^|[\s(])[*_]([^\s*_])/#) { "\($0.1)\($0.2)" }  // opening *emphasis*
        line = line.replacing(#/([^\s*_])[*_]($|[\s.,;:!?)])/#) { "\($0.1)\($0.2)" }  // closing
        line = line.replacing("|", with: " ")
        line = line.replacing(#/\s+/#, with: " ")
        return trimmingSpaces(line)
    }

    private static func trimmingSpaces(_ line: String) -> String {
        var slice = line[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }

    private static func endsSentence(_ character: Character) -> Bool {
        ".!?;:,。！？；：，…".contains(character)
    }

    /// HTML's and OneBot's character references (`&amp;`, `&#91;`, `&#x4E2D;`).
    private static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named: [Substring: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " "]
        return text.replacing(#/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,6});/#) { match in
            let name = match.1
            if name.hasPrefix("#") {
                let hex = name.dropFirst().first.map { $0 == "x" || $0 == "X" } ?? false
                let digits = hex ? name.dropFirst(2) : name.dropFirst()
                if let value = UInt32(digits, radix: hex ? 16 : 10), let scalar = Unicode.Scalar(value) {
                    return String(Character(scalar))
                }
                return String(match.0)
            }
            return named[name] ?? String(match.0)
        }
    }
}

