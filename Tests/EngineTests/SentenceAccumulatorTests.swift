// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

/// Sentences come out as soon as they end, however the text was cut into pieces.
struct SentenceAccumulatorTests {
    @Test func sentencesEndAtPunctuationFollowedBySpace() {
        var sentences = SentenceAccumulator()
        #expect(sentences.append("Hello there. How") == ["Hello there."])
        #expect(sentences.append(" are you?") == [])
        #expect(sentences.append(" Fine") == ["How are you?"])
        #expect(sentences.finish() == "Fine")
        #expect(sentences.finish() == nil)
    }

    @Test func decimalsAndCJKAndLineBreaks() {
        var sentences = SentenceAccumulator()
        #expect(sentences.append("Pi is 3.14 roughly") == [])
        #expect(sentences.append("\n你好。今天") == ["Pi is 3.14 roughly", "你好。"])
        #expect(sentences.append("怎么样？好") == ["今天怎么样？"])
        #expect(sentences.finish() == "好")
    }

    @Test(arguments: [1, 2, 3, 7])
    func pieceSizeDoesNotChangeTheSentences(size: Int) {
        let text = "One. Two! Three? Four… five\nsix。七！"
        var sentences = SentenceAccumulator()
        var out = [String]()
        var rest = Substring(text)
        while !rest.isEmpty {
            out += sentences.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        if let last = sentences.finish() { out.append(last) }
        #expect(out == ["One.", "Two!", "Three?", "Four…", "five", "six。", "七！"])
    }
}
