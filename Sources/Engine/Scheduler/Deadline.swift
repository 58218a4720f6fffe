// SPDX-License-Identifier: Apache-2.0

/// Runs `operation`, cancelling it and throwing `expired()` when `deadline` passes first.
///
/// The operation runs in a task of its own (so that expiry cancels it and not the caller, whose
/// cancellation is permanent), watched by ``DeadlineWatch/shared`` rather than raced against a
/// sleep of its own. A caller cancelled meanwhile cancels the operation too. An operation that
/// finished although its deadline had just passed returns its result.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, expired: @escaping @Sendable () -> any Error, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let task = Task { try await operation() }
    let ticket = DeadlineWatch.shared.watch(deadline) { task.cancel() }
    let result = await withTaskCancellationHandler {
        await task.result
    } onCancel: {
        task.cancel()
    }
    let passed = DeadlineWatch.shared.unwatch(ticket)
    if case .failure = result, passed { throw expired() }
    return try result.get()
}
