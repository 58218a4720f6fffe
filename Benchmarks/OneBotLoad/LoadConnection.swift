// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// A snapshot of a connection for the driver.
struct LoadConnectionStatus: Sendable {
    var connected: Bool
    var finished: Bool
    var failure: String?
    /// Nothing in flight and nothing left to send in the current phase.
    var idle: Bool
    /// Events remain to be sent in the current phase (closed-loop budget or open-loop schedule).
    var pending: Bool
    /// Events of the current phase answered so far, by a reply or a refusal.
    var answered: Int
}

/// One simulated connection that ``LoadRun`` drives through its phases: a OneBot implementation
/// or a web chat client (``SimulatedClient``), or a keep-alive HTTP connection
/// (``HTTPLoadConnection``).
///
/// A conformer keeps its bookkeeping in ``state`` and touches it, the schedule and its timers
/// only on ``eventLoop``. The `async` methods of the extension hop onto that loop; the others
/// must be called on it.
protocol LoadConnection: AnyObject, Sendable {
    /// Index of this connection among all of the run's (0-based).
    var index: Int { get }
    /// How many users this connection carries.
    var localUserCount: Int { get }
    /// How failures name this connection, e.g. `bot 3847290000`.
    var name: String { get }
    /// The event loop that owns this connection.
    var eventLoop: any EventLoop { get }
    /// Period of ``tick()``.
    var tickPeriod: TimeAmount { get }

    // Event-loop confined state.
    var state: BotState { get set }
    var schedule: OpenLoopSchedule? { get set }
    var scheduleTimer: Scheduled<Void>? { get set }
    var tickTask: RepeatedTask? { get set }

    /// Opens the connection and returns once it is ready for events, within about `timeout`.
    func connect(to endpoint: Endpoint, token: String?, timeout: TimeAmount) async throws
    /// Closes the connection, forcing it shut after `grace`; returns when it is closed.
    func close(grace: TimeAmount) async
    /// Sends (or queues) event `sequence` of local user `user`; ``flushIfNeeded()`` sends it.
    func send(user: Int, sequence: Int)
    func flushIfNeeded()
    /// Every ``tickPeriod`` once ticking: timeouts and heartbeats.
    func tick()
}

extension LoadConnection {
    /// The connection's current status.
    func status() async throws -> LoadConnectionStatus {
        try await eventLoop.submit { self.currentStatus }.get()
    }

    /// Starts a closed-loop phase of `budget` events: one event per user goes out now, and each
    /// answer (or timeout) releases that user's next event until the budget is spent.
    func startClosedPhase(budget: Int) async throws {
        try await eventLoop.submit {
            self.state.beginPhase(closedLoop: true, budget: budget)
            self.startTicking()
            for user in 0..<self.localUserCount {
                guard let sequence = self.state.issueFromBudget(user: user, start: Monotonic.now()) else { break }
                self.send(user: user, sequence: sequence)
            }
            self.flushIfNeeded()
        }.get()
    }

    /// Starts an open-loop phase: this connection sends its share of `schedule` from its own timers.
    func startOpenPhase(_ schedule: OpenLoopSchedule) async throws {
        try await eventLoop.submit {
            self.state.beginPhase(closedLoop: false, budget: 0)
            self.startTicking()
            self.schedule = schedule.isDone ? nil : schedule
            self.runSchedule()
        }.get()
    }

    /// Stops issuing events in the current phase; events in flight still finish or time out.
    func stopIssuing() async throws {
        try await eventLoop.submit {
            self.state.dropBudget()
            self.cancelSchedule()
        }.get()
    }

    /// The current phase's counters.
    func phaseStats() async throws -> PhaseStats {
        try await eventLoop.submit { self.state.stats }.get()
    }

    // MARK: On the event loop

    /// The connection's status, read on its loop.
    var currentStatus: LoadConnectionStatus {
        LoadConnectionStatus(
            connected: state.connected, finished: state.finished, failure: state.failure,
            idle: state.isIdle && schedule == nil,
            pending: !state.finished && (state.budget > 0 || schedule != nil),
            answered: state.stats.replies + state.stats.refused
        )
    }

    /// Open loop: sends every event that has fallen due, keeping its scheduled time as the
    /// start of its latency, then arms a timer for the next one. Once the connection has
    /// ended, due events count as errors.
    func runSchedule() {
        scheduleTimer = nil
        guard var current = schedule else { return }
        let now = Monotonic.now()
        while !current.isDone, current.nextDue <= now {
            if state.finished {
                state.stats.noteSent(start: current.nextDue)
                state.stats.errors += 1
            } else {
                let user = current.nextLocalUser
                send(user: user, sequence: state.issue(user: user, start: current.nextDue))
            }
            current.advance()
        }
        flushIfNeeded()
        guard !current.isDone else {
            schedule = nil
            return
        }
        schedule = current
        scheduleTimer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(current.nextDue)) { [self] in
            self.runSchedule()
        }
    }

    /// Notes `failure` as the connection's, unless it is closing on purpose or already failed.
    func noteFailure(_ failure: @autoclosure () -> String) {
        if !state.closing, state.failure == nil { state.failure = failure() }
    }

    /// The channel has closed: a failure unless closed on purpose; events in flight are lost,
    /// and later open-loop events count as errors.
    func channelEnded(by peer: String) {
        noteFailure("connection closed by the \(peer)")
        state.abandon()
        stopTimers()
    }

    /// Closed loop: sends `user`'s next event if the phase's budget allows.
    func continueClosedLoop(user: Int) {
        if let sequence = state.issueFromBudget(user: user, start: Monotonic.now()) {
            send(user: user, sequence: sequence)
        }
    }

    /// Times out every event older than `timeout` ns; in closed loop each user that lost one
    /// moves on to its next. Returns whether any timed out.
    @discardableResult
    func expireOverdue(timeout: UInt64) -> Bool {
        let freed = state.expire(now: Monotonic.now(), timeout: timeout)
        for user in freed { continueClosedLoop(user: user) }
        return !freed.isEmpty
    }

    /// Starts calling ``tick()`` every ``tickPeriod``, unless it already runs.
    func startTicking() {
        guard tickTask == nil, !state.finished else { return }
        tickTask = eventLoop.scheduleRepeatedTask(initialDelay: tickPeriod, delay: tickPeriod) { [self] _ in
            self.tick()
        }
    }

    /// Cancels the open-loop schedule.
    func cancelSchedule() {
        scheduleTimer?.cancel()
        scheduleTimer = nil
        schedule = nil
    }

    /// Cancels the schedule and the tick.
    func stopTimers() {
        tickTask?.cancel()
        tickTask = nil
        cancelSchedule()
    }
}

/// Opening and closing many connections with a bounded number of handshakes at a time.
enum LoadConnections {
    /// Opens every connection, at most `concurrency` at a time; returns the ones that failed.
    static func connect<Connection: LoadConnection>(
        _ connections: [Connection], to endpoint: Endpoint, token: String?, timeout: TimeAmount, concurrency: Int
    ) async -> [(connection: Connection, error: any Error)] {
        await forEach(connections, concurrency: concurrency) { connection in
            try await connection.connect(to: endpoint, token: token, timeout: timeout)
        }
    }

    /// The status of every connection, in no particular order: one hop per event loop rather
    /// than one per connection, so polling many connections stays cheap.
    static func statuses<Connection: LoadConnection>(_ connections: [Connection]) async throws -> [LoadConnectionStatus] {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, members: [Connection])] = [:]
        for connection in connections {
            byLoop[ObjectIdentifier(connection.eventLoop), default: (connection.eventLoop, [])].members.append(connection)
        }
        var statuses: [LoadConnectionStatus] = []
        statuses.reserveCapacity(connections.count)
        for (loop, members) in byLoop.values {
            statuses += try await loop.submit { members.map(\.currentStatus) }.get()
        }
        return statuses
    }

    /// Closes every connection, at most `concurrency` at a time.
    static func close(_ connections: [some LoadConnection], concurrency: Int, grace: TimeAmount = .seconds(2)) async {
        _ = await forEach(connections, concurrency: concurrency) { await $0.close(grace: grace) }
    }

    /// Runs `body` for every item with at most `concurrency` running at once; returns the items
    /// whose call threw, in the order they finished.
    private static func forEach<Item: Sendable>(
        _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async throws -> Void
    ) async -> [(connection: Item, error: any Error)] {
        await withTaskGroup(of: (Item, (any Error)?).self) { group in
            var failures: [(connection: Item, error: any Error)] = []
            func note(_ result: (Item, (any Error)?)?) {
                if let (item, error) = result, let error { failures.append((item, error)) }
            }
            for (position, item) in items.enumerated() {
                if position >= max(1, concurrency) { note(await group.next()) }
                group.addTask {
                    do {
                        try await body(item)
                        return (item, nil)
                    } catch {
                        return (item, error)
                    }
                }
            }
            for await result in group { note(result) }
            return failures
        }
    }
}
