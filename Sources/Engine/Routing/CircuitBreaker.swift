// SPDX-License-Identifier: Apache-2.0

/// A circuit breaker for one provider and model: closed (calls flow), open (calls refused until
/// ``Settings/recoveryTimeout`` has passed), half open (up to ``Settings/halfOpenMaxCalls`` trial calls;
/// that many successes close it, one failure opens it again).
///
/// Only failures that say the upstream is unwell count (429, 5xx, timeouts, refused connections):
/// the router decides that; a 400 is the caller's fault and never reaches the breaker.
/// A value type: the router keeps one per route behind its lock and passes the time in.
public struct CircuitBreaker: Sendable, Hashable {
    public struct Settings: Sendable, Hashable {
        /// Consecutive failures that open the breaker.
        public var failureThreshold: Int
        public var recoveryTimeout: Duration
        public var halfOpenMaxCalls: Int

        public init(failureThreshold: Int = 5, recoveryTimeout: Duration = .seconds(60), halfOpenMaxCalls: Int = 3) {
            self.failureThreshold = max(1, failureThreshold)
            self.recoveryTimeout = recoveryTimeout
            self.halfOpenMaxCalls = max(1, halfOpenMaxCalls)
        }
    }

    public enum State: Sendable, Hashable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(inFlight: Int, successes: Int)

        /// `closed`, `open` or `half_open`, for `/admin/providers` and metrics.
        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half_open"
            }
        }
    }

    public let settings: Settings
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Whether a call may go out now; a half-open breaker counts it as one of its trial calls, so
    /// every `true` must be followed by ``recordSuccess(at:)``, ``recordFailure(at:)`` or ``release()``.
    public mutating func tryAcquire(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen(inFlight: 1, successes: 0)
            return true
        case .halfOpen(let inFlight, let successes):
            guard inFlight + successes < settings.halfOpenMaxCalls else { return false }
            state = .halfOpen(inFlight: inFlight + 1, successes: successes)
            return true
        }
    }

    /// Whether ``tryAcquire(at:)`` would let a call through now (without taking a trial slot).
    public func isAvailable(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: true
        case .open(let until): now >= until
        case .halfOpen(let inFlight, let successes): inFlight + successes < settings.halfOpenMaxCalls
        }
    }

    public mutating func recordSuccess(at now: ContinuousClock.Instant) {
        switch state {
        case .closed:
            state = .closed(consecutiveFailures: 0)
        case .open:
            break  // a call that started before the breaker opened; the breaker's view stands
        case .halfOpen(let inFlight, let successes):
            let done = successes + 1
            state = done >= settings.halfOpenMaxCalls ? .closed(consecutiveFailures: 0) : .halfOpen(inFlight: max(0, inFlight - 1), successes: done)
        }
    }

    public mutating func recordFailure(at now: ContinuousClock.Instant) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= settings.failureThreshold ? .open(until: now + settings.recoveryTimeout) : .closed(consecutiveFailures: failures + 1)
        case .open:
            break
        case .halfOpen:
            state = .open(until: now + settings.recoveryTimeout)
        }
    }

    /// A call that was let through ended without saying anything about the upstream's health
    /// (a 400, a cancellation): gives back a half-open trial slot.
    public mutating func release() {
        if case .halfOpen(let inFlight, let successes) = state {
            state = .halfOpen(inFlight: max(0, inFlight - 1), successes: successes)
        }
    }
}
