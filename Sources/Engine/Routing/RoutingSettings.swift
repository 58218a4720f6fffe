// SPDX-License-Identifier: Apache-2.0

/// How a ``ProviderRouter`` chooses and retries routes; the same knobs for every kind of provider.
public struct RoutingSettings: Sendable {
    public var strategy: RoutingStrategy
    public var breaker: CircuitBreaker.Settings
    /// Longest time one request may take, all attempts together.
    public var deadline: Duration
    /// Longest wait for a place under a route's `max_concurrent` before trying the next.
    public var concurrencyWait: Duration
    /// First pause between attempts; it doubles, with jitter.
    public var backoff: Duration
    /// Longest `Retry-After` honoured.
    public var maxRetryAfter: Duration

    public init(
        strategy: RoutingStrategy = .intelligent(cost: 0.3, latency: 0.3, successRate: 0.4), breaker: CircuitBreaker.Settings = .init(),
        deadline: Duration = .seconds(60), concurrencyWait: Duration = .milliseconds(250), backoff: Duration = .milliseconds(250),
        maxRetryAfter: Duration = .seconds(60)
    ) {
        self.strategy = strategy
        self.breaker = breaker
        self.deadline = deadline
        self.concurrencyWait = concurrencyWait
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
    }
}
