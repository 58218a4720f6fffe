// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Where an accepted event is on its way to an answer, as the durable inbox records it.
///
/// `received` → `answering` → (`replying`) → `answered`; an event that stayed unanswered longer than
/// the replay window becomes `expired` at the next start instead.
public enum InboxState: String, Sendable, Hashable, CaseIterable {
    /// Stored, its turn not yet begun.
    case received
    /// Its turn began (the model may be writing the answer).
    case answering
    /// Its answer is in the history and in ``InboxEntry/reply``, about to be handed to the door.
    case replying
    /// The door has the answer (or a notice, a failure's apology, or nothing when it was cancelled).
    case answered
    /// Left unanswered past the replay window; never answered.
    case expired
}

/// How an event's turn ended, kept with its `answered` state.
public enum InboxOutcome: String, Sendable, Hashable {
    /// The answer, a command's reply, a notice or an apology reached the door.
    case sent
    /// The door could not deliver it (no route, the client gone).
    case undelivered
    /// Stopped by `/stop` or dropped by `/reset`.
    case cancelled
}

/// One event in the durable inbox.
public struct InboxEntry: Sendable, Hashable {
    /// The event's id (``ConversationEvent/id``): the inbox's key and the de-duplication key.
    public var key: String
    public var receivedAt: Date
    public var state: InboxState
    /// The event as received; nil for keys recorded without one (events answered by older versions).
    public var event: ConversationEvent?
    /// The answer's text once it is in the history (state `replying` and later).
    public var reply: String?
    /// The entry's place in the inbox, which breaks ties between events received at the same time.
    public var position: Int64 = 0

    public init(key: String, receivedAt: Date, state: InboxState, event: ConversationEvent?, reply: String? = nil) {
        self.key = key
        self.receivedAt = receivedAt
        self.state = state
        self.event = event
        self.reply = reply
    }
}

/// The answer of an event, stored together with the history it extends: the event moves to
/// ``InboxState/replying`` in the same transaction, so a restart resends it instead of asking the
/// model again.
public struct InboxReply: Sendable, Hashable {
    public var eventKey: String
    public var receivedAt: Date
    public var text: String

    public init(eventKey: String, receivedAt: Date, text: String) {
        self.eventKey = eventKey
        self.receivedAt = receivedAt
        self.text = text
    }
}
