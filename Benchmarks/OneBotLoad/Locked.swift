// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A value guarded by a mutex, shared between a connection's reader task and the driver.
///
/// The critical sections are a few field updates per frame, so a plain lock is cheaper than
/// hopping onto an actor for every frame. (`Synchronization.Mutex` would do, but needs macOS 15
/// while the package declares macOS 14.)
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value. `body` must not suspend or block.
    @inline(__always)
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
