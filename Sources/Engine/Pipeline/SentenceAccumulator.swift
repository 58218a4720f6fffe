// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Gathers streamed text and hands back each sentence as soon as it has ended.
///
/// A sentence ends at `.`, `!`, `?` or `…` followed by white space, at a line break, or at the CJK
/// full stops `。！？；`, which need no space after them. A decimal point (`3.14`) or an
/// abbreviation without a following space never ends one.
///
/// ```swift
/// var sentences = SentenceAccumulator()
/// sentences.append("Hello there. How")   // ["Hello there."]
/// sentences.append(" are you?")          // [] (a "?" at the very end may still be "?!")
/// sentences.finish()                     // "How are you?"
/// ```
public struct SentenceAccumulator: Sendable {
    private var pending = ""

    public init() {}

    /// Adds `text` and returns the sentences it completed, trimmed, in order.
    public mutating func append(_ text: String) -> [String] {
        pending += text
        var sentences = [String]()
        var start = pending.startIndex
        var index = pending.startIndex
        while index < pending.endIndex {
            let character = pending[index]
            let next = pending.index(after: index)
            let ends: Bool
            switch character {
            case "。", "！", "？", "；", "\n": ends = true
            case ".", "!", "?", "…": ends = next < pending.endIndex && pending[next].isWhitespace
            default: ends = false
            }
            if ends {
                let sentence = pending[start..<next].trimmingCharacters(in: .whitespacesAndNewlines)
                if !sentence.isEmpty { sentences.append(sentence) }
                start = next
            }
            index = next
        }
        pending = String(pending[start...])
        return sentences
    }

    /// The text after the last sentence end, trimmed; nil when there is none.
    public mutating func finish() -> String? {
        defer { pending = "" }
        let rest = pending.trimmingCharacters(in: .whitespacesAndNewlines)
        return rest.isEmpty ? nil : rest
    }
}
