// SPDX-License-Identifier: Apache-2.0

/// How much history goes with each request to the model.
public struct HistoryLimits: Sendable, Hashable {
    /// Most exchanges (a user message and its answer) kept.
    public var maxTurns: Int
    /// Most estimated tokens of history.
    public var maxTokens: Int
    /// Most UTF-8 bytes of history.
    public var maxBytes: Int

    public init(maxTurns: Int = 20, maxTokens: Int = 4000, maxBytes: Int = 65536) {
        self.maxTurns = maxTurns
        self.maxTokens = maxTokens
        self.maxBytes = maxBytes
    }

    /// The newest messages of `history` (oldest first) that fit every limit. Whole turns are dropped
    /// from the old end, so the window never starts with an orphaned answer.
    public func window(_ history: [StoredMessage]) -> [StoredMessage] {
        var kept = [StoredMessage]()
        var tokens = 0
        var bytes = 0
        var userMessages = 0
        for message in history.reversed() {
            let messageTokens = TokenEstimator.estimate(message.content)
            let messageBytes = message.content.utf8.count
            if message.role == .user, userMessages >= maxTurns { break }
            if tokens + messageTokens > maxTokens || bytes + messageBytes > maxBytes { break }
            tokens += messageTokens
            bytes += messageBytes
            if message.role == .user { userMessages += 1 }
            kept.append(message)
        }
        while kept.last?.role == .assistant { kept.removeLast() }
        return kept.reversed()
    }
}

/// A quick token estimate without a tokenizer: about four ASCII bytes per token, and one token
/// per non-ASCII scalar (CJK text runs close to one token per character in common tokenizers).
public enum TokenEstimator {
    public static func estimate(_ text: String) -> Int {
        // Counted on the UTF-8 bytes (every byte below 0x80 is an ASCII scalar, every byte from
        // 0xC0 starts another scalar): the counts of decoding the scalars, without decoding them,
        // for every message of the history on every turn.
        var ascii = 0
        var other = 0
        for byte in text.utf8 {
            if byte < 0x80 {
                ascii += 1
            } else if byte >= 0xC0 {
                other += 1
            }
        }
        return (ascii + 3) / 4 + other
    }
}
