// SPDX-License-Identifier: Apache-2.0

/// Splits long text into chunks of at most a given number of Unicode scalars, preferring
/// paragraph, then line, then sentence, then word boundaries, and never cutting a grapheme cluster.
public enum TextSplitter {
    /// Chunks of `text`, each at most `limit` scalars (a single grapheme longer than that stands alone).
    public static func split(_ text: String, limit: Int) -> [String] {
        precondition(limit > 0, "limit must be positive")
        if text.unicodeScalars.count <= limit { return text.isEmpty ? [] : [text] }
        var chunks = [String]()
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.unicodeScalars.count <= limit {
                chunks.append(String(rest))
                break
            }
            let cut = bestCut(in: rest, limit: limit)
            let chunk = rest[..<cut]
            let trimmed = chunk.trimmingTrailingWhitespace
            if !trimmed.isEmpty { chunks.append(String(trimmed)) }
            rest = rest[cut...].drop(while: { $0.isWhitespace })
        }
        return chunks
    }

    /// The end of the longest good prefix of `text` within `limit` scalars.
    private static func bestCut(in text: Substring, limit: Int) -> Substring.Index {
        var scalars = 0
        var hardEnd = text.startIndex
        var paragraph: Substring.Index?
        var line: Substring.Index?
        var sentence: Substring.Index?
        var word: Substring.Index?
        var index = text.startIndex
        var previous: Character?
        while index < text.endIndex {
            let character = text[index]
            let size = character.unicodeScalars.count
            if scalars + size > limit { break }
            scalars += size
            let next = text.index(after: index)
            if character == "\n" || character == "\r\n" {
                if previous == "\n" || previous == "\r\n" { paragraph = next }
                line = next
            } else if sentenceEnders.contains(character) {
                sentence = next
            } else if character.isWhitespace {
                word = next
            }
            hardEnd = next
            previous = character
            index = next
        }
        if hardEnd == text.startIndex { return text.index(after: text.startIndex) }
        let minimum = max(1, limit / 3)
        for candidate in [paragraph, line, sentence, word] {
            if let candidate, text.unicodeScalars.distance(from: text.startIndex, to: candidate) >= minimum {
                return candidate
            }
        }
        return hardEnd
    }

    private static let sentenceEnders: Set<Character> = [".", "!", "?", "。", "！", "？", "；", ";", "…"]
}

extension Substring {
    var trimmingTrailingWhitespace: Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[startIndex..<end]
    }
}
