// SPDX-License-Identifier: Apache-2.0
import Logging

/// How the speech routers read a ``SpeechError``, and the route settings they share.
enum SpeechRouting {
    /// What a failed speech attempt means for its route.
    static func classify(_ error: any Error) -> FailureVerdict {
        ServiceFailure.verdict(of: error)
    }

    /// `timeout`, `http_429`, … for the usage table.
    static func outcome(of error: any Error) -> String {
        ServiceFailure.outcome(of: error)
    }

    /// A speech router's routes: one per provider, under the speech policy.
    static func router<Provider>(
        _ routes: [SpeechRoute<Provider>], name: (Provider) -> String, settings: RoutingSettings, kind: String, logger: Logger
    ) -> ProviderRouter<SpeechRoute<Provider>> {
        ProviderRouter(
            routes: routes.map { route in
                .init(
                    provider: route, providerName: name(route.provider), model: "speech", costPerUnit: route.cost, maxConcurrent: route.maxConcurrent,
                    priority: route.priority, retryAttempts: route.retryAttempts)
            },
            settings: settings, kind: kind, policy: policy(), logger: logger)
    }

    static func policy<Provider>() -> ProviderRouter<Provider>.Policy {
        .init(
            classify: { error, _ in classify(error) }, outcome: outcome(of:), retryAfter: { ($0 as? SpeechError)?.retryAfter },
            noRoute: { SpeechError(kind: .notConfigured, message: $0) })
    }
}

/// One speech provider as a speech router sees it.
public struct SpeechRoute<Provider: Sendable>: Sendable {
    public var provider: Provider
    /// Lower goes first under the `priority` strategy.
    public var priority: Int?
    /// Most requests in flight; nil: no limit.
    public var maxConcurrent: Int?
    /// Further attempts after a failed one.
    public var retryAttempts: Int
    /// Cost per 1,000 characters (synthesis) or per minute of audio (recognition).
    public var cost: Double?

    public init(_ provider: Provider, priority: Int? = nil, maxConcurrent: Int? = nil, retryAttempts: Int = 1, cost: Double? = nil) {
        self.provider = provider
        self.priority = priority
        self.maxConcurrent = maxConcurrent
        self.retryAttempts = retryAttempts
        self.cost = cost
    }
}
