// SPDX-License-Identifier: Apache-2.0
import GRDB
import Logging
import Synchronization

/// Gathers the inbox's writes so that many events share one statement batch: every event costs
/// an array append and, when its caller waits, a continuation, rather than a write of its own
/// (with its savepoint, its hop to the database queue and its wake-up).
///
/// The first write to arrive while none is in flight starts a flush; whatever arrives during a
/// flush goes in the next. Writes that nobody waits for (an event's turn began) ride along with
/// the next flush. The batch goes through the store's ``WriteBatcher``, so it may share its
/// transaction with history writes too.
final class InboxJournal: Sendable {
    /// One write.
    enum Operation: Sendable {
        case receive(key: String, receivedAt: Double, payload: String)
        case answering(key: String)
        case answered(key: String, receivedAt: Double, outcome: String)
        /// Deletes answered and expired events received before the time.
        case prune(before: Double)
    }

    /// Too many writes are waiting (the database is stuck).
    struct Overloaded: Error {}

    private struct State {
        var pending: [Operation] = []
        var receipts: [InboxReceipt] = []
        var flushing = false
        /// A flush is due within ``lingering`` for writes nobody waits for.
        var flushDue = false
    }

    /// How long a write nobody waits for may wait for company before it is flushed on its own.
    static let lingering = Duration.milliseconds(20)

    private let writer: WriteBatcher
    private let state = Mutex(State())
    /// The row of each event this process stored (or found open at its start) and has not yet
    /// recorded as answered: its later writes address the row directly, so the inbox needs no
    /// index of event keys (whose pages, in the keys' order, were a scattered write per event).
    private let rows = Mutex<[String: Int64]>([:])
    private let logger = Logger(label: "hub.inbox")
    private let maxPending: Int

    init(writer: WriteBatcher, maxPending: Int = 65_536) {
        self.writer = writer
        self.maxPending = maxPending
    }

    /// Adds `operation` to the next batch; the receipt settles once that batch is committed (or
    /// at once with ``Overloaded`` when too many writes wait).
    func submit(_ operation: Operation) -> InboxReceipt {
        let receipt = InboxReceipt()
        let verdict: Bool? = state.withLock { state in
            guard state.pending.count < maxPending else { return nil }
            state.pending.append(operation)
            state.receipts.append(receipt)
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        switch verdict {
        case nil: receipt.settle(.failure(Overloaded()))
        case true?: Task { await self.flush() }
        case false?: break
        }
        return receipt
    }

    /// Adds `operation` to the next batch without waiting for it (dropped when too many wait).
    func enqueue(_ operation: Operation) {
        state.withLock { state in
            if state.pending.count < maxPending { state.pending.append(operation) }
        }
    }

    /// Adds `operation` to the next batch and makes sure that batch is written within
    /// ``lingering``: under load it joins the writes of events arriving meanwhile (one transaction
    /// for all), when idle a flush of its own follows after the pause.
    func commitSoon(_ operation: Operation) {
        let schedule = state.withLock { state -> Bool in
            guard state.pending.count < maxPending else { return false }
            state.pending.append(operation)
            guard !state.flushing, !state.flushDue else { return false }
            state.flushDue = true
            return true
        }
        guard schedule else { return }
        Task {
            try? await Task.sleep(for: Self.lingering)
            let lead = self.state.withLock { state -> Bool in
                state.flushDue = false
                guard !state.flushing, !state.pending.isEmpty else { return false }
                state.flushing = true
                return true
            }
            if lead { await self.flush() }
        }
    }

    /// Writes what is pending now (or waits for the flush under way to write it).
    func flushNow() async {
        let lead = state.withLock { state -> Bool in
            guard !state.flushing, !state.pending.isEmpty else { return false }
            state.flushing = true
            return true
        }
        if lead {
            await flush()
        } else {
            // A flush is under way: it takes what is pending before it stops.
            while state.withLock({ $0.flushing }) { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    private func flush() async {
        while true {
            let (operations, receipts) = state.withLock { state -> ([Operation], [InboxReceipt]) in
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    state.receipts.removeAll(keepingCapacity: true)
                }
                if state.pending.isEmpty { state.flushing = false }
                return (state.pending, state.receipts)
            }
            guard !operations.isEmpty else { return }
            do {
                try await writer.write { db in
                    for operation in operations { try self.execute(operation, in: db) }
                }
                for receipt in receipts { receipt.settle(.success(())) }
            } catch {
                logger.error("inbox writes failed", metadata: ["hub.count": "\(operations.count)", "error": "\(error)"])
                for receipt in receipts { receipt.settle(.failure(error)) }
            }
        }
    }

    /// The row of `key`, if this process stored it or found it open and has not seen it answered.
    func row(of key: String) -> Int64? {
        rows.withLock { $0[key] }
    }

    /// Remembers the row written for `key` outside the journal (an answer stored for an event the
    /// inbox did not hold), so that its `answered` record goes to that row.
    func remember(_ key: String, row: Int64) {
        rows.withLock { $0[key] = row }
    }

    /// Remembers the rows of events found open (at a start, before they are replayed).
    func remember(_ entries: [InboxEntry]) {
        rows.withLock { rows in
            for entry in entries where entry.position > 0 { rows[entry.key] = entry.position }
        }
    }

    /// Moves the row of `key` (if it is known and still holds `key`) to `state`, setting the
    /// columns given; false when no row was changed.
    static func update(_ row: Int64?, key: String, in db: Database, sql: String, arguments: StatementArguments) throws -> Bool {
        guard let row else { return false }
        try db.cachedStatement(sql: sql).execute(arguments: arguments + [row, key])
        return db.changesCount > 0
    }

    private func execute(_ operation: Operation, in db: Database) throws {
        switch operation {
        case .receive(let key, let receivedAt, let payload):
            // A key this process holds open already is left as it is (a second delivery).
            guard row(of: key) == nil else { return }
            try db.cachedStatement(sql: "INSERT INTO inbox (event_key, received_at, state, payload) VALUES (?, ?, 'received', ?)")
                .execute(arguments: [key, receivedAt, payload])
            let inserted = db.lastInsertedRowID
            rows.withLock { $0[key] = inserted }
        case .answering(let key):
            _ = try Self.update(
                row(of: key), key: key, in: db,
                sql: "UPDATE inbox SET state = 'answering' WHERE id = ? AND event_key = ? AND state = 'received'", arguments: [])
        case .answered(let key, let receivedAt, let outcome):
            let updated = try Self.update(
                row(of: key), key: key, in: db,
                sql: "UPDATE inbox SET state = 'answered', outcome = ?, payload = NULL, reply = NULL WHERE id = ? AND event_key = ?",
                arguments: [outcome])
            if !updated {
                // Never stored (the inbox was full or its write failed): the record keeps the key.
                try db.cachedStatement(sql: "INSERT INTO inbox (event_key, received_at, state, outcome) VALUES (?, ?, 'answered', ?)")
                    .execute(arguments: [key, receivedAt, outcome])
            }
            rows.withLock { $0[key] = nil }
        case .prune(let cutoff):
            try db.execute(sql: "DELETE FROM inbox WHERE received_at < ? AND state IN ('answered', 'expired')", arguments: [cutoff])
        }
    }
}
