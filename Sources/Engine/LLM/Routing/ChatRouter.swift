// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization

/// Sends a chat request to the best of many routes (provider and model) and keeps trying others
/// until one answers or the turn's deadline passes.
///
/// For each candidate, in the order of the ``RoutingStrategy`` (routes serving the requested model
/// first, then the others as fallbacks): skip it while its ``CircuitBreaker`` is open or its
/// provider refused our credentials; wait a bounded time for a place under its `max_concurrent`;
/// then try it up to `1 + retry_attempts` times with exponential backoff and jitter, honouring
/// `Retry-After` up to ``Settings/maxRetryAfter``. 429, 5xx, timeouts and broken connections count
/// against the route's breaker; a 400 is the caller's fault: never retried, never counted, thrown at
/// once — except a context-length error, which moves on to a route with a larger context window.
/// 401/403 take the provider out of rotation and are logged as a configuration error.
///
/// ```swift
/// let router = ChatRouter(routes: routes, settings: .init(strategy: .priority), logger: logger)
/// let answer = try await router.complete(ChatRequest(model: "deepseek-chat", messages: messages))
/// ```
public final class ChatRouter: Sendable {
    public struct Settings: Sendable {
        public var strategy: RoutingStrategy
        public var breaker: CircuitBreaker.Settings
        /// Longest time one turn may take, all attempts together.
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

    /// An answer and the route that gave it.
    public struct Routed: Sendable {
        public var completion: ChatCompletion
        /// `provider/model`
        public var route: String
        public var provider: String
        public var model: String
        /// Attempts made in all (1 when the first one answered).
        public var attempts: Int
    }

    private struct RouteState {
        var breaker: CircuitBreaker
        var statistics = RouteStatistics()
        var disabled = false
    }

    public let routes: [ChatRoute]
    public let settings: Settings
    private let gates: [ConcurrencyGate?]
    private let state: Mutex<(routes: [RouteState], turn: Int)>
    private let logger: Logger
    private let onAttempt: @Sendable (UsageRecord) -> Void

    /// - Parameters:
    ///   - onAttempt: called after every attempt, answered or failed (usage accounting).
    public init(routes: [ChatRoute], settings: Settings = Settings(), logger: Logger, onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }) {
        self.onAttempt = onAttempt
        self.routes = routes
        self.settings = settings
        self.gates = routes.map { $0.maxConcurrent.map(ConcurrencyGate.init(limit:)) }
        self.state = Mutex((routes.map { _ in RouteState(breaker: CircuitBreaker(settings: settings.breaker)) }, 0))
        self.logger = logger
    }

    /// Every route's breaker, rotation and statistics.
    public var health: [ChatRouteHealth] {
        let now = ContinuousClock.now
        return state.withLock { state in
            zip(routes, state.routes).map { route, routeState in
                var breaker = routeState.breaker.state.name
                if case .open(let until) = routeState.breaker.state, now >= until { breaker = "half_open" }
                return ChatRouteHealth(
                    provider: route.provider.name, model: route.model, breaker: breaker, disabled: routeState.disabled,
                    statistics: routeState.statistics)
            }
        }
    }

    /// Candidates for `model`, best first: routes serving it, then every other route as a fallback.
    func candidates(for model: String) -> [Int] {
        state.withLock { state in
            state.turn &+= 1
            let describe = { (index: Int) in
                RoutingStrategy.Candidate(
                    index: index, priority: self.routes[index].priority, costPer1kTokens: self.routes[index].costPer1kTokens,
                    statistics: state.routes[index].statistics)
            }
            let serving = routes.indices.filter { routes[$0].model == model }
            let others = routes.indices.filter { routes[$0].model != model }
            return settings.strategy.order(serving.map(describe), turn: state.turn) + settings.strategy.order(others.map(describe), turn: state.turn)
        }
    }

    /// Answers `request` (its `model` names the wanted model) from the first route that can.
    public func complete(_ request: ChatRequest) async throws -> Routed {
        try await run(request) { provider, routed, _, deadline in try await provider.complete(routed, deadline: deadline) }
    }

    /// Streams the answer to `request`: `onDelta` gets the route's model with each delta. A stream
    /// that breaks before any text reached `onDelta` moves on to the next attempt or route like any
    /// failure; once text has gone out, a failure is thrown to the caller (the text cannot be taken back).
    public func stream(_ request: ChatRequest, onDelta: @escaping @Sendable (_ model: String, ChatDelta) async throws -> Void) async throws -> Routed {
        try await run(request) { provider, routed, spoke, deadline in
            try await provider.stream(routed, deadline: deadline) { delta in
                if case .content(let text) = delta, !text.isEmpty { spoke.withLock { $0 = true } }
                try await onDelta(routed.model, delta)
            }
        }
    }

    private func run(
        _ request: ChatRequest,
        _ call: @escaping @Sendable (any ChatProvider, ChatRequest, LockedValue<Bool>, ContinuousClock.Instant) async throws -> ChatCompletion
    ) async throws -> Routed {
        let deadline = ContinuousClock.now + settings.deadline
        var lastError: (any Error)?
        var attempts = 0
        var minimumWindow: Int?
        for index in candidates(for: request.model) {
            let route = routes[index]
            if let minimumWindow, (route.contextWindow ?? 0) <= minimumWindow { continue }
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
            var adjusted = request
            adjusted.model = route.model
            let routed = adjusted
            for attempt in 0...route.retryAttempts {
                if attempt > 0 {
                    guard acquireBreaker(index) else { break }
                }
                attempts += 1
                state.withLock { $0.routes[index].statistics.inFlight += 1 }
                let started = ContinuousClock.now
                let spoke = LockedValue(false)
                do {
                    // The provider ends the attempt by the turn's deadline (``ChatProvider``'s contract).
                    let completion = try await call(route.provider, routed, spoke, deadline)
                    let latency = ContinuousClock.now - started
                    let prompt = completion.usage?.promptTokens ?? 0
                    let answer = completion.usage?.completionTokens ?? 0
                    onAttempt(
                        UsageRecord(
                            provider: route.provider.name, model: route.model, outcome: "ok", promptTokens: prompt, completionTokens: answer,
                            cost: Double(prompt + answer) / 1000 * (route.costPer1kTokens ?? 0), latency: latency))
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        state.routes[index].statistics.recordSuccess(latency: latency)
                        state.routes[index].breaker.recordSuccess(at: .now)
                    }
                    return Routed(completion: completion, route: route.id, provider: route.provider.name, model: route.model, attempts: attempts)
                } catch where Task.isCancelled || error is CancellationError {
                    // The caller went away (`/stop`, a client that disconnected): not the route's
                    // fault, so it touches neither its breaker nor its statistics.
                    onAttempt(
                        UsageRecord(provider: route.provider.name, model: route.model, outcome: "cancelled", latency: ContinuousClock.now - started))
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        state.routes[index].breaker.release()
                    }
                    throw CancellationError()
                } catch {
                    lastError = error
                    let verdict = Self.classify(error)
                    onAttempt(
                        UsageRecord(
                            provider: route.provider.name, model: route.model, outcome: Self.outcome(of: error),
                            latency: ContinuousClock.now - started))
                    state.withLock { state in
                        state.routes[index].statistics.inFlight -= 1
                        switch verdict {
                        case .unhealthy:
                            state.routes[index].statistics.recordFailure()
                            state.routes[index].breaker.recordFailure(at: .now)
                        case .credentials:
                            state.routes[index].disabled = true
                            state.routes[index].breaker.release()
                        case .callersFault, .contextTooLong:
                            state.routes[index].breaker.release()
                        }
                    }
                    if spoke.value { throw error }  // text already reached the caller
                    switch verdict {
                    case .callersFault:
                        throw error
                    case .credentials:
                        logger.error(
                            "provider refused the credentials; taken out of rotation (configuration error)",
                            metadata: ["hub.provider": "\(route.provider.name)", "error": "\(error)"])
                    case .contextTooLong:
                        minimumWindow = max(minimumWindow ?? 0, route.contextWindow ?? 0)
                    case .unhealthy:
                        logger.warning("LLM attempt failed", metadata: ["hub.route": "\(route.id)", "hub.attempt": "\(attempt + 1)", "error": "\(error)"])
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
        throw lastError ?? ChatProviderError.notConfigured("no route can serve \(request.model) now (all saturated, broken or out of rotation)")
    }

    private func acquireBreaker(_ index: Int) -> Bool {
        state.withLock { state in
            guard !state.routes[index].disabled else { return false }
            return state.routes[index].breaker.tryAcquire(at: .now)
        }
    }

    /// `Retry-After` when the upstream sent one (at most ``Settings/maxRetryAfter``), else exponential
    /// backoff with ±20% jitter.
    func pauseBefore(attempt: Int, after error: any Error) -> Duration {
        if let retryAfter = (error as? ChatProviderError)?.retryAfter, let seconds = RetryAfter.bounded(retryAfter) {
            return min(.milliseconds(Int64(seconds * 1000)), settings.maxRetryAfter)
        }
        let base = settings.backoff * Double(1 << min(attempt - 1, 10))
        return base * Double.random(in: 0.8...1.2)
    }

    /// `timeout`, `transport`, `http_429`, … for the usage table.
    static func outcome(of error: any Error) -> String {
        guard let error = error as? ChatProviderError else { return error is CancellationError ? "cancelled" : "error" }
        if error.kind == .httpStatus, let status = error.status { return "http_\(status)" }
        return error.kind.rawValue
    }

    enum Verdict {
        case unhealthy, callersFault, credentials, contextTooLong
    }

    static func classify(_ error: any Error) -> Verdict {
        guard let error = error as? ChatProviderError else { return .unhealthy }
        switch error.kind {
        case .timeout, .transport, .malformedResponse: return .unhealthy
        case .notConfigured: return .callersFault
        case .httpStatus:
            switch error.status ?? 500 {
            case 401, 403: return .credentials
            case 408, 409, 425, 429, 500...599: return .unhealthy
            case 400, 413:
                let message = error.message.lowercased()
                let context = ["context_length", "context length", "maximum context", "too many tokens", "context window"]
                return context.contains { message.contains($0) } ? .contextTooLong : .callersFault
            default: return .callersFault
            }
        }
    }

}

/// A value behind a lock, shared by reference.
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }

    var value: Value { mutex.withLock { $0 } }
}
