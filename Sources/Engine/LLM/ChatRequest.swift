// SPDX-License-Identifier: Apache-2.0

/// A chat completion request, independent of the provider.
public struct ChatRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    /// Nucleus sampling, 0 to 1.
    public var topP: Double?

    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
    }
}

/// Token counts reported by a provider, each within 0…``largest``.
///
/// The counts come from outside (an upstream's `usage`, a cache entry): a provider reporting
/// `Int64.max` tokens once made the sum in the router's cost overflow and trap. Out-of-range
/// counts are clamped here, so every sum of a few billion of them stays in range.
public struct TokenUsage: Sendable, Hashable {
    /// The most tokens counted for one request (a billion; real requests stay far below).
    public static let largest = 1_000_000_000

    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = min(max(promptTokens, 0), Self.largest)
        self.completionTokens = min(max(completionTokens, 0), Self.largest)
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

/// A finished answer.
public struct ChatCompletion: Sendable, Hashable {
    public var content: String
    public var model: String
    public var finishReason: String?
    public var usage: TokenUsage?

    public init(content: String, model: String, finishReason: String? = nil, usage: TokenUsage? = nil) {
        self.content = content
        self.model = model
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// One piece of a streamed answer.
public enum ChatDelta: Sendable, Hashable {
    /// More text.
    case content(String)
    /// The stream ended normally with this reason.
    case finish(reason: String)
    /// Usage figures (sent at the end when the provider reports them).
    case usage(TokenUsage)
}
