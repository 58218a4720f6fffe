// SPDX-License-Identifier: Apache-2.0
/// One event awaiting its reply.
struct InFlight: Sendable {
    /// The bot-local event sequence number.
    var sequence: Int
    /// Monotonic ns the event was sent (closed loop) or scheduled (open loop).
    var start: UInt64
}

/// The bookkeeping of a ``SimulatedBot``, confined to its event loop.
///
/// Users are addressed by their bot-local index. Each user has a FIFO of events in flight:
/// at most one in closed loop, possibly several in open loop. A reply is matched to the oldest
/// event of its user, because a chat reply carries nothing that names the event it answers.
struct BotState: Sendable {
    /// The WebSocket handshake succeeded.
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

    /// A message reply for `user` arrived at `now`. Completes the user's oldest event and
    /// returns `true`, or counts the reply as unmatched and returns `false`.
    mutating func completeReply(user: Int, now: UInt64) -> Bool {
        guard !inFlight[user].isEmpty else {
            stats.unmatched += 1
            return false
        }
        let event = inFlight[user].removeFirst()
        outstanding -= 1
        stats.noteReply(start: event.start, now: now)
        return true
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
