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
    public typealias Settings = RoutingSettings

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

    public let routes: [ChatRoute]
    public var settings: Settings { router.settings }
    private let router: ProviderRouter<ChatRoute>
    private let onAttempt: @Sendable (UsageRecord) -> Void

    /// - Parameters:
    ///   - onAttempt: called after every attempt, answered or failed (usage accounting).
    public init(routes: [ChatRoute], settings: Settings = Settings(), logger: Logger, onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }) {
        self.routes = routes
        self.onAttempt = onAttempt
        self.router = ProviderRouter(
            routes: routes.map { route in
                .init(
                    provider: route, providerName: route.provider.name, model: route.model, costPerUnit: route.costPer1kTokens,
                    maxConcurrent: route.maxConcurrent, priority: route.priority, retryAttempts: route.retryAttempts)
            },
            settings: settings, kind: "LLM",
            policy: .init(
                classify: { error, _ in Self.classify(error).routing }, outcome: Self.outcome(of:),
                retryAfter: { ($0 as? ChatProviderError)?.retryAfter }, noRoute: { ChatProviderError.notConfigured($0) }),
            logger: logger)
    }

    /// Every route's breaker, rotation and statistics.
    public var health: [ChatRouteHealth] { router.health }

    /// Candidates for `model`, best first: routes serving it, then every other route as a fallback.
    func candidates(for model: String) -> [Int] {
        router.candidates { $0.model == model }
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
        // A context-length failure rules out every route whose window is no larger.
        var minimumWindow: Int?
        let spoke = LockedValue(false)
        let (completion, route, attempts) = try await router.run(
            candidates(for: request.model), describing: request.model,
            skip: { route in minimumWindow.map { (route.provider.contextWindow ?? 0) <= $0 } ?? false },
            isFinal: { _ in spoke.value },  // text already reached the caller
            onAttempt: { (attempt, completion: ChatCompletion?) in
                let prompt = completion?.usage?.promptTokens ?? 0
                let answer = completion?.usage?.completionTokens ?? 0
                self.onAttempt(
                    UsageRecord(
                        provider: attempt.route.providerName, model: attempt.route.model, outcome: attempt.outcome, promptTokens: prompt,
                        completionTokens: answer, cost: Double(prompt + answer) / 1000 * (attempt.route.costPerUnit ?? 0), latency: attempt.latency))
            }
        ) { route, deadline -> ChatCompletion in
            var adjusted = request
            adjusted.model = route.model
            do {
                return try await call(route.provider.provider, adjusted, spoke, deadline)
            } catch {
                if Self.classify(error) == .contextTooLong {
                    minimumWindow = max(minimumWindow ?? 0, route.provider.contextWindow ?? 0)
                }
                throw error
            }
        }
        return Routed(completion: completion, route: route.id, provider: route.providerName, model: route.model, attempts: attempts)
    }

    /// `timeout`, `transport`, `http_429`, … for the usage table.
    static func outcome(of error: any Error) -> String {
        guard let error = error as? ChatProviderError else { return error is CancellationError ? "cancelled" : "error" }
        if error.kind == .httpStatus, let status = error.status { return "http_\(status)" }
        return error.kind.rawValue
    }

    enum Verdict {
        case unhealthy, callersFault, credentials, contextTooLong

        var routing: FailureVerdict {
            switch self {
            case .unhealthy: .unhealthy
            case .callersFault: .callersFault
            case .credentials: .credentials
            case .contextTooLong: .elsewhere
            }
        }
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
