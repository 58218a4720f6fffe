// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

@Suite struct HistoryLimitsTests {
    /// `turns` exchanges, user then assistant, each message's content made of `unit` repeated.
    private func history(turns: Int, unit: String = "abcd", repeats: Int = 10) -> [StoredMessage] {
        (1...turns).flatMap { turn in
            [
                StoredMessage(role: .user, content: "u\(turn)|" + String(repeating: unit, count: repeats)),
                StoredMessage(role: .assistant, content: "a\(turn)|" + String(repeating: unit, count: repeats)),
            ]
        }
    }

    /// The "u3"/"a3" labels of a window.
    private func labels(_ messages: [StoredMessage]) -> [String] {
        messages.map { String($0.content.prefix { $0 != "|" }) }
    }

    @Test func everythingFitsWithGenerousLimits() {
        let all = history(turns: 3)
        #expect(HistoryLimits().window(all) == all)
        #expect(HistoryLimits().window([]) == [])
    }

    @Test func maxTurnsBinds() {
        let limits = HistoryLimits(maxTurns: 2, maxTokens: .max / 2, maxBytes: .max / 2)
        #expect(labels(limits.window(history(turns: 5))) == ["u4", "a4", "u5", "a5"])
        #expect(HistoryLimits(maxTurns: 0, maxTokens: 1000, maxBytes: 1000).window(history(turns: 2)) == [])
    }

    @Test func maxTokensBinds() {
        // Each message: 2 + 1 + 40 ASCII bytes = 43 bytes = 11 tokens.
        let messages = history(turns: 5)
        #expect(messages.allSatisfy { TokenEstimator.estimate($0.content) == 11 })
        let four = HistoryLimits(maxTurns: 100, maxTokens: 44, maxBytes: 1 << 20)
        #expect(labels(four.window(messages)) == ["u4", "a4", "u5", "a5"])
        // Room for three messages: the oldest of them would be an answer without its question, so it goes too.
        let three = HistoryLimits(maxTurns: 100, maxTokens: 43, maxBytes: 1 << 20)
        #expect(labels(three.window(messages)) == ["u5", "a5"])
        // The newest answer alone does not fit: nothing is sent.
        #expect(HistoryLimits(maxTurns: 100, maxTokens: 10, maxBytes: 1 << 20).window(messages) == [])
    }

    @Test func maxBytesBinds() {
        // Each message: "u1|" (3 bytes, 1 token) + 4 CJK characters (12 bytes, 4 tokens).
        let messages = history(turns: 5, unit: "你好", repeats: 2)
        #expect(messages.allSatisfy { $0.content.utf8.count == 15 && TokenEstimator.estimate($0.content) == 5 })
        let limits = HistoryLimits(maxTurns: 100, maxTokens: 1000, maxBytes: 60)
        #expect(labels(limits.window(messages)) == ["u4", "a4", "u5", "a5"])
        let tighter = HistoryLimits(maxTurns: 100, maxTokens: 1000, maxBytes: 59)
        #expect(labels(tighter.window(messages)) == ["u5", "a5"])
    }

    @Test func neverStartsWithAnAssistantMessage() {
        // A snapshot cut by its row limit can begin with an answer whose question was not loaded.
        let orphan = [StoredMessage(role: .assistant, content: "a0|x")] + history(turns: 2)
        #expect(labels(HistoryLimits().window(orphan)) == ["u1", "a1", "u2", "a2"])
        let onlyAnswers = [StoredMessage(role: .assistant, content: "a|1"), StoredMessage(role: .assistant, content: "b|2")]
        #expect(HistoryLimits().window(onlyAnswers) == [])
    }

    @Test func consecutiveUserMessagesCountAsTurns() {
        let messages = [
            StoredMessage(role: .user, content: "u1|"), StoredMessage(role: .user, content: "u2|"),
            StoredMessage(role: .assistant, content: "a2|"),
        ]
        #expect(labels(HistoryLimits(maxTurns: 1, maxTokens: 100, maxBytes: 100).window(messages)) == ["u2", "a2"])
        #expect(labels(HistoryLimits(maxTurns: 2, maxTokens: 100, maxBytes: 100).window(messages)) == ["u1", "u2", "a2"])
    }

    @Test func tokenEstimator() {
        #expect(TokenEstimator.estimate("") == 0)
        #expect(TokenEstimator.estimate("a") == 1)
        #expect(TokenEstimator.estimate("abcd") == 1)
        #expect(TokenEstimator.estimate("abcde") == 2)
        #expect(TokenEstimator.estimate("你好") == 2)
        #expect(TokenEstimator.estimate("a你") == 2)
        #expect(TokenEstimator.estimate("😀") == 1)
        #expect(TokenEstimator.estimate(String(repeating: "x", count: 4000)) == 1000)
        // One- to four-byte scalars mixed: the byte count agrees with a count of the scalars.
        for text in ["héllo wörld", "Grüße, 你好 😀!", "e\u{301}", "🇨🇳 ok", "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}"] {
            let ascii = text.unicodeScalars.filter(\.isASCII).count
            #expect(TokenEstimator.estimate(text) == (ascii + 3) / 4 + text.unicodeScalars.count - ascii, "\(text)")
        }
    }
}
