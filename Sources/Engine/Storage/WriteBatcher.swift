// SPDX-License-Identifier: Apache-2.0
import GRDB
import Synchronization

/// Group commit for SQLite: concurrent writes are gathered into one transaction.
///
/// The first writer to arrive becomes the leader and writes its own change together with every
/// change queued meanwhile, each inside its own savepoint (so one failing change does not undo the
/// others). When it is done it hands the lead to the oldest waiting writer. No background task is
/// needed and nobody waits for more than one transaction besides their own.
///
/// The queue is bounded: past `maxPending` waiting changes a write fails with ``Overloaded``.
public final class WriteBatcher: Sendable {
    /// Too many writes are waiting.
    public struct Overloaded: Error, Sendable {}

    private struct Pending: Sendable {
        let change: @Sendable (Database) throws -> any Sendable
        /// Resumed with the change's result after commit, or with nil to make this writer the leader.
        let continuation: CheckedContinuation<(any Sendable)?, any Error>
    }

    private struct State {
        var busy = false
        var pending: [Pending] = []
    }

    private let pool: DatabasePool
    private let maxPending: Int
    private let state = Mutex(State())

    public init(pool: DatabasePool, maxPending: Int = 16_384) {
        self.pool = pool
        self.maxPending = maxPending
    }

    /// Runs `change` in a write transaction, possibly shared with other writers, and returns its
    /// result once committed.
    public func write<T: Sendable>(_ change: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let erased: @Sendable (Database) throws -> any Sendable = { db in try change(db) }
        let leads = state.withLock { state in
            if state.busy { return false }
            state.busy = true
            return true
        }
        if !leads {
            let result: (any Sendable)? = try await withCheckedThrowingContinuation { continuation in
                let queued: Result<Bool, Overloaded> = state.withLock { state in
                    guard state.busy else {
                        state.busy = true
                        return .success(false)
                    }
                    guard state.pending.count < maxPending else { return .failure(Overloaded()) }
                    state.pending.append(Pending(change: erased, continuation: continuation))
                    return .success(true)
                }
                switch queued {
                case .success(true): break
                case .success(false): continuation.resume(returning: nil)
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
            if let result { return result as! T }
        }
        return try await lead(with: erased) as! T
    }

    private func lead(with own: @escaping @Sendable (Database) throws -> any Sendable) async throws -> any Sendable {
        let others = state.withLock { state in
            let taken = state.pending
            state.pending.removeAll(keepingCapacity: true)
            return taken
        }
        let changes = [own] + others.map(\.change)
        let results: [Result<any Sendable, any Error>]
        do {
            results = try await pool.writeWithoutTransaction { db in try Self.commit(changes, in: db) }
        } catch {
            results = Array(repeating: .failure(error), count: changes.count)
        }
        for (pending, result) in zip(others, results.dropFirst()) {
            switch result {
            case .success(let value): pending.continuation.resume(returning: value)
            case .failure(let error): pending.continuation.resume(throwing: error)
            }
        }
        let next = state.withLock { state -> Pending? in
            if state.pending.isEmpty {
                state.busy = false
                return nil
            }
            return state.pending.removeFirst()
        }
        next?.continuation.resume(returning: nil)
        return try results[0].get()
    }

    /// Runs `changes` in one transaction and commits it. With several, each runs in a savepoint of
    /// its own, so one that fails is undone alone; a lone change needs none (a failure undoes the
    /// transaction). The transaction and savepoint statements are prepared once per connection:
    /// GRDB's own `write` parses them again for every transaction, and with events arriving one at
    /// a time that was a measurable part of each answer.
    private static func commit(_ changes: [@Sendable (Database) throws -> any Sendable], in db: Database) throws -> [Result<any Sendable, any Error>] {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        var results = [Result<any Sendable, any Error>]()
        results.reserveCapacity(changes.count)
        do {
            if changes.count == 1 {
                results.append(.success(try changes[0](db)))
            } else {
                for change in changes {
                    try db.cachedStatement(sql: "SAVEPOINT batched").execute()
                    do {
                        results.append(.success(try change(db)))
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT batched").execute()
                    } catch {
                        results.append(.failure(error))
                        try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT batched").execute()
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT batched").execute()
                    }
                }
            }
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
        } catch {
            // SQLite may have ended the transaction itself (a full disk, an I/O error).
            if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            throw error
        }
        return results
    }
}
