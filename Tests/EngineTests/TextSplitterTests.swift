// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct TextSplitterTests {
    @Test func shortTextIsUntouched() {
        #expect(TextSplitter.split("", limit: 5) == [])
        #expect(TextSplitter.split("  hello  \n", limit: 10) == ["  hello  \n"])
        #expect(TextSplitter.split("exactly10!", limit: 10) == ["exactly10!"])
        // Counted in scalars, not bytes: 6 CJK characters are 18 UTF-8 bytes.
        #expect(TextSplitter.split("你好世界你好", limit: 6) == ["你好世界你好"])
    }

    @Test func limitIsCountedInUnicodeScalars() {
        #expect(TextSplitter.split("你好世界你好", limit: 4) == ["你好世界", "你好"])
        #expect(TextSplitter.split("abcdefghijklmnopqrstuvwxyz", limit: 10) == ["abcdefghij", "klmnopqrst", "uvwxyz"])
    }

    @Test func prefersParagraphs() {
        // A sentence boundary ("Second one.") lies later, but the paragraph break wins.
        let text = "First paragraph here.\n\nSecond one. More text follows here"
        #expect(TextSplitter.split(text, limit: 40) == ["First paragraph here.", "Second one. More text follows here"])
    }

    @Test func prefersLinesOverSentences() {
        let text = "Line one. Still line one\nLine two. And more words"
        #expect(TextSplitter.split(text, limit: 30) == ["Line one. Still line one", "Line two. And more words"])
    }

    @Test func prefersSentencesOverWords() {
        #expect(TextSplitter.split("One two three. Four five six seven", limit: 20) == ["One two three.", "Four five six seven"])
        #expect(TextSplitter.split("Really? Yes! Good; fine", limit: 14) == ["Really? Yes!", "Good; fine"])
    }

    @Test func chineseSentenceEnders() {
        let text = "你好。今天天气很好！我们去公园吧？"
        #expect(TextSplitter.split(text, limit: 8) == ["你好。", "今天天气很好！", "我们去公园吧？"])
        #expect(TextSplitter.split(text, limit: 10) == ["你好。今天天气很好！", "我们去公园吧？"])
    }

    @Test func tooEarlyABoundaryFallsBackToTheNextKind() {
        // "Hi." ends a sentence after 3 of 20 scalars, less than a third of the limit: cut at a word.
        #expect(TextSplitter.split("Hi. abcdefgh ijklmnop qrstuvwx", limit: 20) == ["Hi. abcdefgh", "ijklmnop qrstuvwx"])
    }

    @Test func wordsWhenNothingBetter() {
        #expect(TextSplitter.split("alpha beta gamma delta epsilon", limit: 12) == ["alpha beta", "gamma delta", "epsilon"])
    }

    @Test func neverSplitsAGrapheme() {
        let family = "👨‍👩‍👧‍👦"  // 7 scalars
        #expect(TextSplitter.split("ab\(family)cd", limit: 5) == ["ab", family, "cd"])
        #expect(TextSplitter.split("e\u{301}e\u{301}e\u{301}", limit: 3) == ["e\u{301}", "e\u{301}", "e\u{301}"])
        #expect(TextSplitter.split("🇨🇳🇨🇳🇨🇳", limit: 3) == ["🇨🇳", "🇨🇳", "🇨🇳"])
        #expect(TextSplitter.split("x\(family)", limit: 1) == ["x", family])
    }

    @Test func randomTextKeepsEveryInvariant() {
        let pieces = [
            "word", "a", "longerword", " ", " ", "  ", "\n", "\n\n", "\r\n", ".", "。", "！", "？", "你", "好", "👨‍👩‍👧‍👦", "e\u{301}",
            "🇨🇳", "x\u{20DD}", "\u{3000}",
        ]
        var generator = SeededGenerator(seed: 42)
        for round in 0..<400 {
            let count = Int.random(in: 0...80, using: &generator)
            let text = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let limit = Int.random(in: 1...40, using: &generator)
            let chunks = TextSplitter.split(text, limit: limit)
            let context = "round \(round), limit \(limit), text \(text.debugDescription)"
            for chunk in chunks {
                #expect(!chunk.isEmpty, "\(context)")
                #expect(chunk.unicodeScalars.count <= limit || chunk.count == 1, "chunk \(chunk.debugDescription); \(context)")
            }
            if text.unicodeScalars.count > limit {
                for chunk in chunks.dropFirst() {
                    #expect(chunk.first?.isWhitespace == false, "chunk \(chunk.debugDescription); \(context)")
                }
            }
            // Only whitespace is dropped, and every chunk is made of the text's own graphemes, in order.
            let kept = chunks.flatMap { Array($0) }.filter { !$0.isWhitespace }
            #expect(kept == Array(text).filter { !$0.isWhitespace }, "\(context)")
        }
    }
}
