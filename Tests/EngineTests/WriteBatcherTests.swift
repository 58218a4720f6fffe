// SPDX-License-Identifier: Apache-2.0
import Dispatch
import GRDB
import Synchronization
import Testing

@testable import Engine

/// Counts committed transactions on the writer connection. Read inside a change, the count is a
/// marker of the transaction the change runs in: changes sharing a transaction see the same value.
private final class CommitCounter: TransactionObserver, Sendable {
    private let commits = Atomic<Int>(0)
    var value: Int { commits.load(ordering: .sequentiallyConsistent) }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.add(1, ordering: .sequentiallyConsistent) }
    func databaseDidRollback(_ db: Database) {}
}

/// A change that holds the writer (and with it the batcher's lead) until released.
private final class Blocker: Sendable {
    let running: AsyncStream<Void>
    private let runningContinuation: AsyncStream<Void>.Continuation
    private let semaphore = DispatchSemaphore(value: 0)

    init() {
        (running, runningContinuation) = AsyncStream.makeStream()
    }

    func hold() {
        runningContinuation.yield()
        // Bounded, so a broken test cannot hang the writer forever.
        _ = semaphore.wait(timeout: .now() + .seconds(10))
    }

    func release() { semaphore.signal() }

    func waitUntilRunning() async {
        var iterator = running.makeAsyncIterator()
        _ = await iterator.next()
    }
}

private struct ChangeFailed: Error, Equatable {
    let index: Int
}

@Suite struct WriteBatcherTests {
    private func setUp() async throws -> (HubDatabase, CommitCounter) {
        let database = try makeTemporaryDatabase()
        try await database.pool.write { db in
            try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, value INTEGER NOT NULL UNIQUE)")
        }
        let counter = CommitCounter()
        try await database.pool.writeWithoutTransaction { db in db.add(transactionObserver: counter, extent: .databaseLifetime) }
        return (database, counter)
    }

    private func values(_ database: HubDatabase) async throws -> [Int] {
        try await database.pool.read { db in try Int.fetchAll(db, sql: "SELECT value FROM items ORDER BY value") }
    }

    @Test func concurrentWritesAreAllCommittedInFewerTransactions() async throws {
        let (database, counter) = try await setUp()
        defer { removeTemporaryDatabase(database) }
        let batcher = WriteBatcher(pool: database.pool)
        let writes = 200
        let markers = Locked<[Int: Int]>([:])
        let arrived = Locked(0)
        let blocker = Blocker()
        let before = counter.value

        let outcomes = try await withTimeLimit(.seconds(20)) {
            try await withThrowingTaskGroup(of: (Int, Result<String, ChangeFailed>).self) { group in
                // The blocker takes the lead, so the writes below queue up behind it.
                group.addTask {
                    _ = try await batcher.write { _ in blocker.hold() }
                    return (-1, .success("blocker"))
                }
                await blocker.waitUntilRunning()
                for index in 0..<writes {
                    group.addTask {
                        arrived.withLock { $0 += 1 }
                        do {
                            let value = try await batcher.write { db -> String in
                                try db.execute(sql: "INSERT INTO items (value) VALUES (?)", arguments: [index])
                                markers.withLock { $0[index] = counter.value }
                                // Every tenth change fails after it wrote: its row must go, the others' stay.
                                if index % 10 == 0 { throw ChangeFailed(index: index) }
                                return "row \(index)"
                            }
                            return (index, .success(value))
                        } catch let error as ChangeFailed {
                            return (index, .failure(error))
                        }
                    }
                }
                while arrived.value < writes { await Task.yield() }
                blocker.release()
                var outcomes = [Int: Result<String, ChangeFailed>]()
                for try await (index, outcome) in group where index >= 0 { outcomes[index] = outcome }
                return outcomes
            }
        }

        #expect(outcomes.count == writes)
        for (index, outcome) in outcomes {
            if index % 10 == 0 {
                #expect(outcome == .failure(ChangeFailed(index: index)))
            } else {
                #expect(outcome == .success("row \(index)"))
            }
        }
        let expected = (0..<writes).filter { $0 % 10 != 0 }
        #expect(try await values(database) == expected)

        let marks = markers.value
        #expect(marks.count == writes)
        let transactions = Set(marks.values)
        // One commit for the blocker, then one per batch.
        #expect(counter.value - before == transactions.count + 1)
        #expect(transactions.count < writes, "\(transactions.count) transactions for \(writes) writes")
        // Some failing change shared its transaction with changes that were kept.
        let failedIn = Set(marks.filter { $0.key % 10 == 0 }.map(\.value))
        let keptIn = Set(marks.filter { $0.key % 10 != 0 }.map(\.value))
        let sharedWithAFailure = !failedIn.isDisjoint(with: keptIn)
        #expect(sharedWithAFailure)
    }

    @Test func failingChangeAloneThrowsAndWritesNothing() async throws {
        let (database, _) = try await setUp()
        defer { removeTemporaryDatabase(database) }
        let batcher = WriteBatcher(pool: database.pool)
        try await batcher.write { db in try db.execute(sql: "INSERT INTO items (value) VALUES (1)") }
        // A constraint violation is the change's own error.
        await #expect(throws: DatabaseError.self) {
            try await batcher.write { db in try db.execute(sql: "INSERT INTO items (value) VALUES (1)") }
        }
        await #expect(throws: ChangeFailed(index: 2)) {
            try await batcher.write { db in
                try db.execute(sql: "INSERT INTO items (value) VALUES (2)")
                throw ChangeFailed(index: 2)
            }
        }
        let count = try await batcher.write { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") }
        #expect(count == 1)
        #expect(try await values(database) == [1])
    }

    @Test func overloadedBeyondMaxPending() async throws {
        let (database, _) = try await setUp()
        defer { removeTemporaryDatabase(database) }
        let batcher = WriteBatcher(pool: database.pool, maxPending: 2)
        let blocker = Blocker()
        let (refusals, refused) = AsyncStream<Int>.makeStream()

        let written = try await withTimeLimit(.seconds(20)) {
            try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    try await batcher.write { _ in blocker.hold() }
                    return nil
                }
                await blocker.waitUntilRunning()
                for index in 0..<6 {
                    group.addTask {
                        do {
                            try await batcher.write { db in
                                try db.execute(sql: "INSERT INTO items (value) VALUES (?)", arguments: [index])
                            }
                            return index
                        } catch is WriteBatcher.Overloaded {
                            refused.yield(index)
                            return nil
                        }
                    }
                }
                // While the lead is held, two writes wait and the other four are refused at once.
                var iterator = refusals.makeAsyncIterator()
                for _ in 0..<4 { _ = await iterator.next() }
                blocker.release()
                var written = [Int]()
                for try await case let index? in group { written.append(index) }
                return written
            }
        }
        #expect(written.count == 2)
        #expect(try await values(database) == written.sorted())
    }

    @Test func writesAfterABatchStillWork() async throws {
        let (database, counter) = try await setUp()
        defer { removeTemporaryDatabase(database) }
        let batcher = WriteBatcher(pool: database.pool)
        // Sequential writes each run alone (nobody else is waiting) and the lead is released every time.
        let before = counter.value
        for value in 0..<20 {
            let id = try await batcher.write { db -> Int64 in
                try db.execute(sql: "INSERT INTO items (value) VALUES (?)", arguments: [value])
                return db.lastInsertedRowID
            }
            #expect(id == Int64(value + 1))
        }
        #expect(counter.value - before == 20)
        #expect(try await values(database) == Array(0..<20))
    }
}
