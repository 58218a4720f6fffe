// SPDX-License-Identifier: Apache-2.0

/// How the router orders the candidates for a request (`llm.routing.strategy`).
public enum RoutingStrategy: Sendable, Hashable {
    /// Highest score first: the weighted sum of cheapness, speed (the moving average of latency) and
    /// the moving success rate, each scaled 0…1 across the candidates.
    case intelligent(cost: Double, latency: Double, successRate: Double)
    /// Lowest configured priority first (unset: after every set one), then configuration order.
    case priority
    /// A different first candidate each time, in turn.
    case roundRobin
    /// Fewest calls in flight first.
    case leastBusy

    /// What the strategy knows of one candidate.
    public struct Candidate: Sendable, Hashable {
        /// Position in the configuration, the final tie-breaker.
        public var index: Int
        public var priority: Int?
        public var costPer1kTokens: Double?
        public var statistics: RouteStatistics

        public init(index: Int, priority: Int? = nil, costPer1kTokens: Double? = nil, statistics: RouteStatistics = RouteStatistics()) {
            self.index = index
            self.priority = priority
            self.costPer1kTokens = costPer1kTokens
            self.statistics = statistics
        }
    }

    /// The candidates' indices, best first. `turn` rotates round robin (a counter the router keeps).
    public func order(_ candidates: [Candidate], turn: Int = 0) -> [Int] {
        switch self {
        case .priority:
            return candidates.sorted { ($0.priority ?? .max, $0.index) < ($1.priority ?? .max, $1.index) }.map(\.index)
        case .roundRobin:
            guard !candidates.isEmpty else { return [] }
            let sorted = candidates.sorted { $0.index < $1.index }.map(\.index)
            let start = ((turn % sorted.count) + sorted.count) % sorted.count
            return Array(sorted[start...] + sorted[..<start])
        case .leastBusy:
            return candidates.sorted { ($0.statistics.inFlight, $0.index) < ($1.statistics.inFlight, $1.index) }.map(\.index)
        case .intelligent(let costWeight, let latencyWeight, let successWeight):
            let costs = candidates.map { $0.costPer1kTokens ?? 0 }
            let maxCost = costs.max() ?? 0
            let known = candidates.compactMap(\.statistics.averageLatency)
            let maxLatency = known.max() ?? 0
            // A route not yet measured counts as average, so it is neither shunned nor favoured.
            let meanLatency = known.isEmpty ? 0 : known.reduce(0, +) / Double(known.count)
            func score(_ candidate: Candidate) -> Double {
                let cheapness = maxCost > 0 ? 1 - (candidate.costPer1kTokens ?? 0) / maxCost : 1
                let latency = candidate.statistics.averageLatency ?? meanLatency
                let speed = maxLatency > 0 ? 1 - latency / maxLatency : 1
                return costWeight * cheapness + latencyWeight * speed + successWeight * candidate.statistics.successRate
            }
            return candidates.map { (score($0), $0.index) }.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.map(\.1)
        }
    }
}
