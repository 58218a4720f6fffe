// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// When each pending action of a connection gives up, kept by one expiry loop per connection
/// instead of one event-loop timer per action.
///
/// A timer per action cost two cross-thread wake-ups of an event loop per reply (scheduling it,
/// then cancelling it). Actions of one timeout are queued in the order they were sent, so each
/// queue's head is its earliest deadline: the loop sleeps until the earliest head, and an idle loop
/// is woken by the first action after a quiet spell. An action whose timeout is shorter than those
/// already waiting expires at most ``maxNap`` late.
///
/// ```swift
/// let deadline = deadlines.add(echo: echo, timeout: .seconds(30))
/// // in the connection's task group:
/// await deadlines.run { echo, detail in fail(echo, detail) }
/// ```
final class ActionDeadlines: Sendable {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var echo: String
        /// What the action's failure says (its name and timeout).
        var detail: String
    }

    private struct State {
        var queues: [Duration: CircularBuffer<Entry>] = [:]
        /// The loop waiting for work, when there is none.
        var idle: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    /// The longest the loop sleeps before it looks again.
    static let maxNap: Duration = .milliseconds(250)
    private let state = Mutex(State())

    /// Records that the action `echo` gives up after `timeout`; returns its deadline.
    @discardableResult
    func add(echo: String, timeout: Duration, detail: String = "") -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + timeout
        let idle = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queues[timeout, default: CircularBuffer()].append(Entry(deadline: deadline, echo: echo, detail: detail))
            defer { state.idle = nil }
            return state.idle
        }
        idle?.resume()
        return deadline
    }

    /// Expires actions until the task is cancelled: `expire` gets the echo and detail of each action
    /// whose deadline passed (it may have been answered already; the caller checks).
    func run(expire: (_ echo: String, _ detail: String) -> Void) async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (due, next) = state.withLock { state -> ([Entry], ContinuousClock.Instant?) in
                var due = [Entry]()
                var next: ContinuousClock.Instant?
                for key in state.queues.keys {
                    while let head = state.queues[key]?.first, head.deadline <= now {
                        due.append(head)
                        state.queues[key]?.removeFirst()
                    }
                    if let head = state.queues[key]?.first {
                        next = min(next ?? head.deadline, head.deadline)
                    } else {
                        state.queues.removeValue(forKey: key)
                    }
                }
                return (due, next)
            }
            // Across queues, in the order of the deadlines.
            for entry in due.sorted(by: { $0.deadline < $1.deadline }) { expire(entry.echo, entry.detail) }
            if let next {
                try? await Task.sleep(until: min(next, ContinuousClock.now + Self.maxNap))
            } else {
                await waitForWork()
            }
        }
    }

    private func waitForWork() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.queues.isEmpty || state.stopped || Task.isCancelled { return true }
                    state.idle = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                state.stopped = true
                defer { state.idle = nil }
                return state.idle
            }?.resume()
        }
    }
}
