// SPDX-License-Identifier: Apache-2.0

/// The state of one route, for `/admin/providers` and `/api/health`.
public struct RouteHealth: Sendable, Hashable {
    public var provider: String
    /// The model (LLM), voice set or engine the route stands for.
    public var model: String
    public var breaker: String
    /// Taken out of rotation after the provider refused the credentials (401/403).
    public var disabled: Bool
    public var statistics: RouteStatistics
}
