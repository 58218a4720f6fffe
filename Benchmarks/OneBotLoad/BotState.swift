// SPDX-License-Identifier: Apache-2.0
/// One event awaiting its reply.
struct InFlight: Sendable {
    /// The bot-local event sequence number.
    var sequence: Int
    /// Monotonic ns the event was sent (closed loop) or scheduled (open loop).
    var start: UInt64
    /// A streamed answer: whether its first piece has arrived.
    var answering = false
}

/// The bookkeeping of a ``LoadConnection``, confined to its event loop.
///
/// Users are addressed by their bot-local index. Each user has a FIFO of events in flight:
/// at most one in closed loop, possibly several in open loop. A OneBot reply is matched to the
/// oldest event of its user, because a chat reply carries nothing that names the event it
/// answers; a web chat answer names its message, and an HTTP response is the oldest request on
/// its connection.
struct BotState: Sendable {
    /// The connection is open (WebSocket handshake done, TCP connected).
    var connected = false
    /// The connection has ended (or never opened); nothing more can be sent.
    var finished = false
    /// We asked to close; an ending after this is not a failure.
    var closing = false
    /// Why the connection failed, if it did.
    var failure: String?
    /// When the last heartbeat (or the connect event) was sent, monotonic ns.
    var lastHeartbeat: UInt64 = 0

    /// Events in flight per local user, oldest first.
    private(set) var inFlight: [[InFlight]]
    /// Total events in flight over all users.
    private(set) var outstanding = 0
    /// Closed loop: how many events this phase may still issue.
    private(set) var budget = 0
    /// Whether the current phase is closed loop (replies trigger the next event).
    private(set) var closedLoop = true
    /// Next event sequence number; never reset, so message ids stay unique across phases.
    private var nextSequence = 0
    /// Counters of the current phase.
    var stats = PhaseStats()

    init(localUsers: Int) {
        inFlight = Array(repeating: [], count: localUsers)
    }

    /// Starts a phase: fresh counters, and in closed loop a budget of events to issue.
    mutating func beginPhase(closedLoop: Bool, budget: Int) {
        stats = PhaseStats()
        self.closedLoop = closedLoop
        self.budget = finished ? 0 : budget
    }

    /// Whether this connection has nothing left to do in the current phase.
    var isIdle: Bool { outstanding == 0 && (budget == 0 || finished) }

    /// Stops issuing new events in this phase (events in flight still complete or time out).
    mutating func dropBudget() { budget = 0 }

    /// Registers a new event for `user` that started at `start`; returns its sequence number.
    mutating func issue(user: Int, start: UInt64) -> Int {
        let sequence = nextSequence
        nextSequence += 1
        inFlight[user].append(InFlight(sequence: sequence, start: start))
        outstanding += 1
        stats.noteSent(start: start)
        return sequence
    }

    /// Closed loop: issues the next event for `user` if the budget allows.
    mutating func issueFromBudget(user: Int, start: UInt64) -> Int? {
        guard closedLoop, budget > 0, !finished else { return nil }
        budget -= 1
        return issue(user: user, start: start)
    }

    /// A reply for `user` arrived at `now`: completes the event numbered `sequence`, or with
    /// `nil` the user's oldest one (a OneBot reply names no event), and returns `true`; with no
    /// such event in flight, counts the reply as unmatched and returns `false`.
    mutating func completeReply(user: Int, sequence: Int? = nil, now: UInt64) -> Bool {
        guard let event = take(user: user, sequence: sequence) else {
            stats.unmatched += 1
            return false
        }
        stats.noteReply(start: event.start, now: now)
        return true
    }

    /// The answer to an event was a refusal for `reason` (see ``completeReply(user:sequence:now:)``).
    mutating func completeRefusal(user: Int, sequence: Int? = nil, reason: String, now: UInt64) -> Bool {
        guard take(user: user, sequence: sequence) != nil else {
            stats.unmatched += 1
            return false
        }
        stats.noteRefusal(reason: reason, now: now)
        return true
    }

    /// A piece of the streamed answer to event `sequence` of `user` arrived at `now`; the first
    /// one is timed.
    mutating func notePiece(user: Int, sequence: Int, now: UInt64) {
        guard let position = inFlight[user].firstIndex(where: { $0.sequence == sequence }),
              !inFlight[user][position].answering
        else { return }
        inFlight[user][position].answering = true
        let start = inFlight[user][position].start
        stats.firstPiece.record(microseconds: now > start ? (now - start) / 1_000 : 0)
    }

    /// Removes and returns event `sequence` (or the oldest) of `user`.
    private mutating func take(user: Int, sequence: Int?) -> InFlight? {
        let position = if let sequence { inFlight[user].firstIndex { $0.sequence == sequence } } else { inFlight[user].indices.first }
        guard let position else { return nil }
        outstanding -= 1
        return inFlight[user].remove(at: position)
    }

    /// Times out every event older than `timeout` ns; returns the users that lost one.
    mutating func expire(now: UInt64, timeout: UInt64) -> [Int] {
        guard outstanding > 0 else { return [] }
        var freed: [Int] = []
        for user in inFlight.indices {
            while let oldest = inFlight[user].first, now >= oldest.start, now - oldest.start >= timeout {
                inFlight[user].removeFirst()
                outstanding -= 1
                stats.noteTimeout(now: now)
                freed.append(user)
            }
        }
        return freed
    }

    /// The connection ended: every event in flight is lost and counted as an error.
    mutating func abandon() {
        finished = true
        stats.errors += outstanding
        for user in inFlight.indices { inFlight[user].removeAll() }
        outstanding = 0
        budget = 0
    }
}
