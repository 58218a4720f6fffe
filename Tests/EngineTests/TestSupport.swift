// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization
import Testing

@testable import Engine
import GRDB

/// A deterministic random number generator (SplitMix64), so a failing randomized test can be re-run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A one-shot gate: everyone who ``wait()``s is held until ``open()``.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Thrown by ``withTimeLimit(_:_:)`` when the operation did not finish in time.
struct TimeLimitExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "operation did not finish within \(limit)" }
}

/// Runs `operation`, failing with ``TimeLimitExceeded`` (and cancelling it) when it takes longer
/// than `limit`. Keeps every timing-dependent test bounded.
func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeLimitExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A fresh database file in its own temporary folder, migrated.
func makeTemporaryDatabase() throws -> HubDatabase {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-engine-tests-\(UUID().uuidString)")
    let database = try HubDatabase(path: folder.appendingPathComponent("hub.sqlite").path)
    try database.migrate()
    return database
}

/// Removes the folder of a database made by ``makeTemporaryDatabase()``.
func removeTemporaryDatabase(_ database: HubDatabase) {
    try? database.pool.close()
    try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: database.path).deletingLastPathComponent().path)
}

/// A value behind a lock, shareable by reference with child tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { body(&$0) }
    }

    var value: Value { mutex.withLock { $0 } }
}

/// A store of record that counts how often it is read.
final class CountingStore: ConversationStore {
    let inner: SQLiteConversationStore
    let reads = Atomic<Int>(0)
    /// Runs after a snapshot was read and before it is returned (to hold a reader in the middle).
    let afterRead: @Sendable () async -> Void

    init(_ inner: SQLiteConversationStore, afterRead: @escaping @Sendable () async -> Void = {}) {
        self.inner = inner
        self.afterRead = afterRead
    }

    func snapshot(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot {
        reads.add(1, ordering: .relaxed)
        let snapshot = try await inner.snapshot(key, limit: limit)
        await afterRead()
        return snapshot
    }
    func append(_ messages: [StoredMessage], to key: SessionKey, answering: InboxReply?) async throws -> [StoredMessage] {
        try await inner.append(messages, to: key, answering: answering)
    }
    func reset(_ key: SessionKey) async throws { try await inner.reset(key) }
    func updateSettings(_ key: SessionKey, _ update: @escaping @Sendable (inout SessionSettings) -> Void) async throws {
        try await inner.updateSettings(key, update)
    }
    func inboundKeys(since date: Date) async throws -> [(key: String, receivedAt: Date)] { try await inner.inboundKeys(since: date) }
    func isHealthy() async -> Bool { await inner.isHealthy() }
}

/// Waits (bounded) until the asynchronous `condition` holds.
func eventually(timeout: Duration = .seconds(5), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(limit: timeout) }
        try await Task.sleep(for: .milliseconds(5))
    }
}
