// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// A multi-producer, single-consumer queue with a hard bound.
///
/// Producers never wait: ``tryEnqueue(_:)`` either takes the element or refuses it at once. The
/// consumer awaits ``next()``, which returns nil once the queue is closed and drained (or its task
/// is cancelled).
public final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var items = CircularBuffer<Element>()
        var waiter: CheckedContinuation<Element?, Never>?
        var closed = false
    }

    /// Most elements held at once.
    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Adds `element`; false when the queue is full or closed.
    @discardableResult
    public func tryEnqueue(_ element: Element) -> Bool {
        let outcome: EnqueueOutcome = state.withLock { state in
            if state.closed { return .refused }
            if let waiter = state.waiter {
                state.waiter = nil
                return .handOff(waiter)
            }
            guard state.items.count < capacity else { return .refused }
            state.items.append(element)
            return .queued
        }
        switch outcome {
        case .handOff(let waiter):
            waiter.resume(returning: element)
            return true
        case .queued: return true
        case .refused: return false
        }
    }

    private enum EnqueueOutcome {
        case handOff(CheckedContinuation<Element?, Never>)
        case queued
        case refused
    }

    /// The next element, waiting for one; nil when closed and empty, or when the task is cancelled.
    public func next() async -> Element? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let ready: Element?? = state.withLock { state in
                    if !state.items.isEmpty { return .some(state.items.removeFirst()) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.close()
        }
    }

    /// Refuses further elements; those already queued can still be taken.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            state.closed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Elements waiting.
    public var count: Int { state.withLock { $0.items.count } }
    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }
}
