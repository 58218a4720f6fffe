// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A one-shot signal between start-up steps: services that must not begin before the database is
/// migrated wait for it; `beforeServerStarts` fires it.
final class StartSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Lets every waiter (and every later one) go on.
    func fire() {
        let waiting = state.withLock { state in
            state.fired = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once ``fire()`` was called.
    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiting.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
