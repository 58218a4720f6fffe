// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// At most `limit` holders at once; a caller waits at most a given time for a place, then is
/// refused (and the router tries the next candidate). Waiters are served in arrival order.
public final class ConcurrencyGate: Sendable {
    private struct State {
        var holders = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID: UInt64 = 0
        /// Waiters whose time ran out (or who were cancelled) before they were queued.
        var expired = Set<UInt64>()
    }

    public let limit: Int
    private let state = Mutex(State())

    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Holders now.
    public var holders: Int { state.withLock { $0.holders } }

    /// Takes a place, waiting up to `wait`; false when none freed up in time (or on cancellation).
    public func acquire(waitingUpTo wait: Duration) async -> Bool {
        let id: UInt64? = state.withLock { state in
            if state.holders < limit {
                state.holders += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        guard wait > .zero else {
            return false
        }
        let granted = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    guard (try? await Task.sleep(for: wait)) != nil else { return }  // cancelled: granted meanwhile
                    self.resume(id, with: false)
                }
                let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let immediate = state.withLock { state -> Bool? in
                        if state.expired.remove(id) != nil { return false }
                        if state.holders < limit {
                            state.holders += 1
                            return true
                        }
                        state.waiters.append((id, continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
                group.cancelAll()
                return granted
            }
        } onCancel: {
            self.resume(id, with: false)
        }
        // A timer that fired just as the place was granted may have left the id behind.
        state.withLock { _ = $0.expired.remove(id) }
        return granted
    }

    /// Gives a place back; the longest waiter, if any, takes it.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty {
                state.holders = max(0, state.holders - 1)
                return nil
            }
            return state.waiters.removeFirst().continuation  // the place passes on; holders unchanged
        }
        next?.resume(returning: true)
    }

    private func resume(_ id: UInt64, with granted: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                // Not queued yet (it will see this), or already granted (then this is a no-op
                // that is cleared below when the id is long gone).
                state.expired.insert(id)
                return nil
            }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: granted)
    }
}
