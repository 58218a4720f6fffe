// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// The promise that an event handed to the inbox gets committed: ``Inbox/receive(_:)`` returns it at
/// once, and whoever needs the event stored first (the turn, a door that acknowledges) awaits
/// ``stored()``. It costs a lock and, only when awaited before the commit, a continuation, where a
/// task per event used to carry the insert.
public final class InboxReceipt: Sendable {
    private enum State {
        case pending([CheckedContinuation<Void, any Error>])
        case done(Result<Void, any Error>)
    }

    private let state = Mutex(State.pending([]))

    public init() {}

    /// A receipt already settled with `result`.
    public init(_ result: Result<Void, any Error>) {
        state.withLock { $0 = .done(result) }
    }

    /// Returns once the event is committed; throws what the write threw.
    public func stored() async throws {
        if let result { return try result.get() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let settled = state.withLock { state -> Result<Void, any Error>? in
                switch state {
                case .done(let result): return result
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return nil
                }
            }
            if let settled { continuation.resume(with: settled) }
        }
    }

    /// The outcome, once settled.
    public var result: Result<Void, any Error>? {
        state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Settles the receipt (the first call wins) and wakes whoever waits.
    func settle(_ result: Result<Void, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .pending(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
