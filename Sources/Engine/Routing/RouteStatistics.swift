// SPDX-License-Identifier: Apache-2.0

/// What the router has observed of one route (provider and model): a moving average of latency
/// and of success, the calls in flight, and totals for `/admin/providers`.
public struct RouteStatistics: Sendable, Hashable {
    /// Weight of the newest observation in the moving averages.
    public static let smoothing = 0.2

    /// Seconds; nil until the first success.
    public private(set) var averageLatency: Double?
    /// 0…1; starts optimistic at 1 so a new route gets tried.
    public private(set) var successRate = 1.0
    public var inFlight = 0
    public private(set) var successes = 0
    public private(set) var failures = 0

    public init() {}

    public mutating func recordSuccess(latency: Duration) {
        let seconds = Double(latency.nanoseconds) / 1e9
        averageLatency = averageLatency.map { $0 + Self.smoothing * (seconds - $0) } ?? seconds
        successRate += Self.smoothing * (1 - successRate)
        successes += 1
    }

    public mutating func recordFailure() {
        successRate += Self.smoothing * (0 - successRate)
        failures += 1
    }
}
