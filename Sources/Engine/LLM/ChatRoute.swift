// SPDX-License-Identifier: Apache-2.0

/// One model of one provider, as the router sees it.
public struct ChatRoute: Sendable {
    public var provider: any ChatProvider
    public var model: String
    public var costPer1kTokens: Double?
    /// Most requests in flight to this model; nil: no limit.
    public var maxConcurrent: Int?
    /// Tokens of context; a context-length failure moves to a route with a larger one.
    public var contextWindow: Int?
    /// Lower goes first under the `priority` strategy.
    public var priority: Int?
    /// Further attempts after a failed one (0: one attempt).
    public var retryAttempts: Int

    public init(
        provider: any ChatProvider, model: String, costPer1kTokens: Double? = nil, maxConcurrent: Int? = nil, contextWindow: Int? = nil,
        priority: Int? = nil, retryAttempts: Int = 3
    ) {
        self.provider = provider
        self.model = model
        self.costPer1kTokens = costPer1kTokens
        self.maxConcurrent = maxConcurrent
        self.contextWindow = contextWindow
        self.priority = priority
        self.retryAttempts = max(0, retryAttempts)
    }

    /// `provider/model`
    public var id: String { "\(provider.name)/\(model)" }
}

/// The state of one LLM route, for `/admin/providers`.
public typealias ChatRouteHealth = RouteHealth
