// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization

/// The routing every kind of provider shares: LLMs (``ChatRouter``), speech synthesizers and
/// recognizers. It tries routes in the ``RoutingStrategy``'s order until one answers or the
/// request's deadline passes.
///
/// For each candidate: skip it while its ``CircuitBreaker`` is open or it left the rotation; wait a
/// bounded time for a place under its `maxConcurrent`; then try it up to `1 + retryAttempts` times
/// with exponential backoff and jitter, honouring `Retry-After` up to
/// ``RoutingSettings/maxRetryAfter``. What a failure means is the owner's ``FailureVerdict``.
/// A cancelled caller is not a failure: it touches no breaker or statistic and is recorded as
/// `cancelled`.
public final class ProviderRouter<Provider: Sendable>: Sendable {
    /// One provider (and model or voice set) as the router sees it.
    public struct Route: Sendable {
        public var provider: Provider
        /// The provider's configured name.
        public var providerName: String
        /// The model, or what else distinguishes routes of one provider.
        public var model: String
        /// Cost per unit (1k tokens, 1k characters, a minute of audio), for the `intelligent` strategy.
        public var costPerUnit: Double?
        /// Most requests in flight on this route; nil: no limit.
        public var maxConcurrent: Int?
        /// Lower goes first under the `priority` strategy.
        public var priority: Int?
        /// Further attempts after a failed one (0: one attempt).
        public var retryAttempts: Int

        public init(
            provider: Provider, providerName: String, model: String, costPerUnit: Double? = nil, maxConcurrent: Int? = nil, priority: Int? = nil,
            retryAttempts: Int = 2
        ) {
            self.provider = provider
            self.providerName = providerName
            self.model = model
            self.costPerUnit = costPerUnit
            self.maxConcurrent = maxConcurrent
            self.priority = priority
            self.retryAttempts = max(0, retryAttempts)
        }

        /// `provider/model`
        public var id: String { "\(providerName)/\(model)" }
    }

    /// An attempt's outcome, for accounting.
    public struct Attempt: Sendable {
        public var route: Route
        /// `ok`, `cancelled`, or the failure's outcome name.
        public var outcome: String
        public var latency: Duration
    }

    /// How the owner reads failures.
    public struct Policy: Sendable {
        /// What a failure means.
        public var classify: @Sendable (any Error, Route) -> FailureVerdict
        /// The failure's name for the usage table (`timeout`, `http_429`, …).
        public var outcome: @Sendable (any Error) -> String
        /// Seconds the provider asked to wait, if it did.
        public var retryAfter: @Sendable (any Error) -> Double?
        /// The error thrown when no route could be tried at all.
        public var noRoute: @Sendable (String) -> any Error

        public init(
            classify: @escaping @Sendable (any Error, Route) -> FailureVerdict, outcome: @escaping @Sendable (any Error) -> String,
            retryAfter: @escaping @Sendable (any Error) -> Double?, noRoute: @escaping @Sendable (String) -> any Error
        ) {
            self.classify = classify
            self.outcome = outcome
            self.retryAfter = retryAfter
            self.noRoute = noRoute
        }
    }

    private struct RouteState {
        var breaker: CircuitBreaker
        var statistics = RouteStatistics()
        var disabled = false
    }

    public let routes: [Route]
    public let settings: RoutingSettings
    /// `llm`, `tts`, `stt`: in log lines.
    public let kind: String
    private let policy: Policy
    private let gates: [ConcurrencyGate?]
    private let state: Mutex<(routes: [RouteState], turn: Int)>
    private let logger: Logger

    public init(routes: [Route], settings: RoutingSettings, kind: String, policy: Policy, logger: Logger) {
        self.routes = routes
        self.settings = settings
        self.kind = kind
        self.policy = policy
        self.gates = routes.map { $0.maxConcurrent.map(ConcurrencyGate.init(limit:)) }
        self.state = Mutex((routes.map { _ in RouteState(breaker: CircuitBreaker(settings: settings.breaker)) }, 0))
        self.logger = logger
    }

    /// Every route's breaker, rotation and statistics.
    public var health: [RouteHealth] {
        let now = ContinuousClock.now
        return state.withLock { state in
            zip(routes, state.routes).map { route, routeState in
                var breaker = routeState.breaker.state.name
                if case .open(let until) = routeState.breaker.state, now >= until { breaker = "half_open" }
                return RouteHealth(
                    provider: route.providerName, model: route.model, breaker: breaker, disabled: routeState.disabled,
                    statistics: routeState.statistics)
            }
        }
    }

    /// Route indices, best first: those `preferred` accepts in the strategy's order, then every
    /// other route (also in that order) as fallbacks.
    public func candidates(preferring preferred: (Route) -> Bool) -> [Int] {
        state.withLock { state in
            state.turn &+= 1
            let describe = { (index: Int) in
                RoutingStrategy.Candidate(
                    index: index, priority: self.routes[index].priority, costPer1kTokens: self.routes[index].costPerUnit,
                    statistics: state.routes[index].statistics)
            }
            let first = routes.indices.filter { preferred(routes[$0]) }
            let others = routes.indices.filter { !preferred(routes[$0]) }
            return settings.strategy.order(first.map(describe), turn: state.turn) + settings.strategy.order(others.map(describe), turn: state.turn)
        }
    }

    /// Runs `call` on the candidates in turn until one succeeds; returns its value, the route and
    /// the attempts made. `call` gets the request's deadline and must end by it. `skip` is asked
    /// before each route (a route ruled out by an earlier failure). `onAttempt` sees every attempt.
    /// A failure for which `isFinal` is true (a stream that already reached the caller) is
    /// accounted for, then thrown without trying further. Throws the last failure,
    /// `CancellationError` when the caller was cancelled, or the policy's `noRoute` error when no
    /// route could be tried.
    public func run<T: Sendable>(
        _ candidates: [Int], describing request: String,
        skip: (Route) -> Bool = { _ in false },
        isFinal: (any Error) -> Bool = { _ in false },
        onAttempt: (Attempt, T?) -> Void = { _, _ in },
        _ call: (Route, ContinuousClock.Instant) async throws -> T
    ) async throws -> (value: T, route: Route, attempts: Int) {
        let deadline = ContinuousClock.now + settings.deadline
        var lastError: (any Error)?
        var attempts = 0
        for index in candidates {
            let route = routes[index]
            if skip(route) { continue }
            guard ContinuousClock.now < deadline else { break }
            guard acquireBreaker(index) else { continue }
            if let gate = gates[index] {
                let wait = min(settings.concurrencyWait, deadline - ContinuousClock.now)
                guard await gate.acquire(waitingUpTo: wait) else {
                    state.withLock { $0.routes[index].breaker.release() }
                    logger.debug("route saturated, trying the next", metadata: ["hub.route": "\(route.id)"])
                    continue
                }
            }
            defer { gates[index]?.release() }
            for attempt in 0...route.retryAttempts {
                if attempt > 0 {
                    guard acquireBreaker(index) else { break }
                }
                attempts += 1
                state.withLock { $0.routes[index].statistics.inFlight += 1 }
                let started = ContinuousClock.now
                do {
                    let value = try await call(route, deadline)
                    let latency = ContinuousClock.now - started
                    onAttempt(Attempt(route: route, outcome: "ok", latency: latency), value)
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        state.routes[index].statistics.recordSuccess(latency: latency)
                        state.routes[index].breaker.recordSuccess(at: .now)
                    }
                    return (value, route, attempts)
                } catch where Task.isCancelled || error is CancellationError {
                    // The caller went away (`/stop`, a client that disconnected): not the route's
                    // fault, so it touches neither its breaker nor its statistics.
                    onAttempt(Attempt(route: route, outcome: "cancelled", latency: ContinuousClock.now - started), nil)
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        state.routes[index].breaker.release()
                    }
                    throw CancellationError()
                } catch {
                    lastError = error
                    let verdict = policy.classify(error, route)
                    onAttempt(Attempt(route: route, outcome: policy.outcome(error), latency: ContinuousClock.now - started), nil)
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        switch verdict {
                        case .unhealthy:
                            state.routes[index].statistics.recordFailure()
                            state.routes[index].breaker.recordFailure(at: .now)
                        case .credentials:
                            state.routes[index].disabled = true
                            state.routes[index].breaker.release()
                        case .callersFault, .elsewhere:
                            state.routes[index].breaker.release()
                        }
                    }
                    if isFinal(error) { throw error }
                    switch verdict {
                    case .callersFault:
                        throw error
                    case .credentials:
                        logger.error(
                            "\(kind) provider refused the credentials; taken out of rotation (configuration error)",
                            metadata: ["hub.provider": "\(route.providerName)", "error": "\(error)"])
                    case .elsewhere:
                        logger.debug("\(kind) route cannot serve this, trying the next", metadata: ["hub.route": "\(route.id)", "error": "\(error)"])
                    case .unhealthy:
                        logger.warning(
                            "\(kind) attempt failed", metadata: ["hub.route": "\(route.id)", "hub.attempt": "\(attempt + 1)", "error": "\(error)"])
                        if attempt < route.retryAttempts, ContinuousClock.now < deadline {
                            let pause = pauseBefore(attempt: attempt + 1, after: error)
                            guard ContinuousClock.now + pause < deadline else { break }
                            try await Task.sleep(for: pause)
                            continue
                        }
                    }
                    break
                }
            }
        }
        throw lastError ?? policy.noRoute("no \(kind) route can serve \(request) now (all saturated, broken or out of rotation)")
    }

    private func acquireBreaker(_ index: Int) -> Bool {
        state.withLock { state in
            guard !state.routes[index].disabled else { return false }
            return state.routes[index].breaker.tryAcquire(at: .now)
        }
    }

    /// `Retry-After` when the provider sent one (at most ``RoutingSettings/maxRetryAfter``), else
    /// exponential backoff with ±20% jitter.
    public func pauseBefore(attempt: Int, after error: any Error) -> Duration {
        if let retryAfter = policy.retryAfter(error), let seconds = RetryAfter.bounded(retryAfter) {
            return min(.milliseconds(Int64(seconds * 1000)), settings.maxRetryAfter)
        }
        let base = settings.backoff * Double(1 << min(attempt - 1, 10))
        return base * Double.random(in: 0.8...1.2)
    }
}
