// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A one-shot signal between start-up steps: services that must not begin before the database is
/// migrated wait for it; `beforeServerStarts` fires it. Also: a job queue's submissions wait
/// until it has counted the jobs a previous run left.
public final class StartSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// Whether ``fire()`` was called.
    public var hasFired: Bool { state.withLock { $0.fired } }

    /// Lets every waiter (and every later one) go on.
    public func fire() {
        let waiting = state.withLock { state in
            state.fired = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once ``fire()`` was called.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiting.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
