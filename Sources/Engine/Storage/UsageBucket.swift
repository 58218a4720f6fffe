// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The `usage` rows of one kind, provider and model that fall in one time bucket: what the admin
/// dashboard draws over time.
public struct UsageBucket: Sendable, Hashable {
    /// The start of the bucket.
    public var start: Date
    /// `llm`, `tts`, `stt` or `image`.
    public var kind: String
    public var provider: String
    public var model: String
    /// Attempts in the bucket, whatever became of them.
    public var requests: Int
    /// Attempts with the outcome `ok`.
    public var ok: Int
    /// Attempts the caller gave up on (`cancelled`): neither success nor the provider's failure.
    public var cancelled: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// Characters (`tts`), seconds of audio (`stt`) or images (`image`).
    public var quantity: Double
    public var cost: Double
    public var averageLatencyMilliseconds: Double

    /// Attempts that failed: neither `ok` nor `cancelled`.
    public var failures: Int { requests - ok - cancelled }

    public init(
        start: Date, kind: String, provider: String, model: String, requests: Int, ok: Int, cancelled: Int, promptTokens: Int,
        completionTokens: Int, quantity: Double, cost: Double, averageLatencyMilliseconds: Double
    ) {
        self.start = start
        self.kind = kind
        self.provider = provider
        self.model = model
        self.requests = requests
        self.ok = ok
        self.cancelled = cancelled
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.quantity = quantity
        self.cost = cost
        self.averageLatencyMilliseconds = averageLatencyMilliseconds
    }
}
