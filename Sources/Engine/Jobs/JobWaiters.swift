// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Callers waiting for jobs to finish, woken by ``notify(_:)`` or their own timeout, whichever
/// comes first (and at once when their task is cancelled).
final class JobWaiters: Sendable {
    private enum Waiter {
        case registered
        case waiting(CheckedContinuation<Void, Never>)
        case woken
    }

    private struct State {
        var waiters: [String: [UInt64: Waiter]] = [:]
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Registers a waiter for `id` before the caller reads the job, so a finish between the read
    /// and ``wait(_:token:timeout:)`` is not missed.
    func register(_ id: String) -> UInt64 {
        state.withLock { state in
            state.next += 1
            state.waiters[id, default: [:]][state.next] = .registered
            return state.next
        }
    }

    /// Forgets a waiter that will not wait after all.
    func unregister(_ id: String, token: UInt64) {
        state.withLock { state in
            state.waiters[id]?[token] = nil
            if state.waiters[id]?.isEmpty == true { state.waiters[id] = nil }
        }
    }

    /// Returns when `id` was notified after ``register(_:)``, after `timeout`, or on cancellation.
    func wait(_ id: String, token: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        guard case .registered? = state.waiters[id]?[token] else { return true }
                        state.waiters[id]?[token] = .waiting(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.wake(id, token: token)
            }
            await group.next()
            group.cancelAll()
        }
        unregister(id, token: token)
    }

    /// Wakes everyone waiting for `id`.
    func notify(_ id: String) {
        let tokens = state.withLock { state in state.waiters[id].map { Array($0.keys) } ?? [] }
        for token in tokens { wake(id, token: token) }
    }

    private func wake(_ id: String, token: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.waiters[id]?[token] {
            case .waiting(let continuation)?:
                state.waiters[id]?[token] = .woken
                return continuation
            case .registered?:
                state.waiters[id]?[token] = .woken
                return nil
            case .woken?, nil:
                return nil
            }
        }
        continuation?.resume()
    }
}
