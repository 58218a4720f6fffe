// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The durable inbox: every event a door accepted for an asynchronous answer, stored before it is
/// acknowledged, with its state, so that a restart answers what a crash left unanswered.
///
/// Implementations: ``SQLiteInbox`` (the `inbox` table of the hub's SQLite file, written through the
/// conversation store's group commit, so the answer and the history land in one transaction).
public protocol Inbox: Sendable {
    /// Stores `event` as ``InboxState/received`` (a key held open already is left as it is); the
    /// receipt settles once it is committed. Never waits.
    func receive(_ event: ConversationEvent) -> InboxReceipt
    /// Moves a `received` event to ``InboxState/answering`` (later states are left alone) with the
    /// next write; nobody waits for it, since a restart treats both states alike.
    func markAnswering(_ key: String)
    /// Moves an event to ``InboxState/answered`` (inserting the key when it was never stored),
    /// within a short time (``InboxJournal/lingering`` for the SQLite inbox), sharing the
    /// transaction of the writes made meanwhile.
    func markAnswered(_ key: String, receivedAt: Date, outcome: InboxOutcome)
    /// Events still open (received, answering, replying) received at or after `date`, in the order
    /// they were received, at most `limit`, after the entry `after` (nil to start).
    func open(since date: Date, after: InboxEntry?, limit: Int) async throws -> [InboxEntry]
    /// Marks every open event received before `date` ``InboxState/expired``; returns their keys.
    func expireOpen(before date: Date) async throws -> [String]
    /// Counts events per state.
    func counts() async throws -> [InboxState: Int]
    /// Writes now whatever waits to be written (at shutdown).
    func flush() async
}
