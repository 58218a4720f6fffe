// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix
import Synchronization

/// Runs `operation`, cancelling it and throwing `expired()` when `deadline` passes first.
///
/// One NIO timer per call, removed as soon as the operation ends. (Racing the operation against a
/// `Task.sleep` in a task group costs two child tasks per call and leaves a dispatch timer behind
/// until the deadline, for every call: tens of thousands of them under load.) The operation runs
/// in a task of its own that inherits the caller's priority and task-local values, and is
/// cancelled with the caller.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, expired: @escaping @Sendable () -> any Error, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let remaining = deadline - .now
    guard remaining > .zero else { throw expired() }
    let work = Task { try await operation() }
    let fired = DeadlineFlag()
    let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(remaining.nanoseconds)) {
        fired.set()
        work.cancel()
    }
    defer { timer.cancel() }
    do {
        return try await withTaskCancellationHandler {
            try await work.value
        } onCancel: {
            work.cancel()
        }
    } catch {
        if fired.isSet { throw expired() }
        throw error
    }
}

/// Whether a deadline's timer fired.
private final class DeadlineFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
