// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

extension FuzzTarget {
    /// Text from both sides of a conversation: what a user writes (chat policy, nicknames, prefixes
    /// and commands, in a private and a group chat) and what a model streams back (split into
    /// sentences as it arrives, and into chunks for platforms with a length limit).
    static let chatText = FuzzTarget(name: "chat-text", summary: "message text: ChatPolicy, ChatCommand, TextSplitter, SentenceAccumulator") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let policy = ChatPolicy(prefixes: ["/", "hub "], nicknames: ["hubby", "İstanbul", "ß"])
        for scope in [ConversationScope.private(user: "1"), .group(group: "2", user: "1")] {
            for content in [[Segment.text(text)], [.quote("7"), .mention("9"), .text(text)]] {
                let event = ConversationEvent(
                    id: "e", platform: .web, botID: "9", scope: scope, sender: Sender(id: "1"), content: content,
                    receivedAt: Date(timeIntervalSince1970: 0))
                _ = policy.decide(event, quotesBot: false)
                _ = policy.decide(event, quotesBot: true)
            }
        }
        _ = ChatCommand.parse(text)
        for limit in [3, 64] {
            for chunk in TextSplitter.split(text, limit: limit) {
                expect(!chunk.isEmpty, "an empty chunk")
                expect(chunk.unicodeScalars.count <= limit || chunk.count == 1, "a chunk of \(chunk.unicodeScalars.count) scalars for limit \(limit)")
            }
        }
        // Deltas split anywhere between scalars, as an upstream may send them.
        var sentences = SentenceAccumulator()
        let scalars = Array(text.unicodeScalars)
        for start in stride(from: 0, to: scalars.count, by: 3) {
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[start..<min(start + 3, scalars.count)])
            for sentence in sentences.append(String(piece)) { expect(!sentence.isEmpty, "an empty sentence") }
        }
        _ = sentences.finish()
    }
}
