// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging

/// One simulated OneBot implementation: a reverse WebSocket connection to the hub (§1.4) that
/// pushes private message events for its share of the users and answers every action.
///
/// The reader task (``serve(inbound:outbound:)``) answers actions as they arrive and, in
/// closed loop, sends the user's next event straight after the reply. The ``LoadRun`` driver
/// starts phases, schedules open-loop events and calls ``tick(now:)`` for timeouts and
/// heartbeats. Both sides share ``BotState`` under a lock and write through the same
/// (concurrency-safe) outbound writer.
final class SimulatedBot: Sendable {
    /// Index of this bot among all bots (0-based).
    let index: Int
    /// The QQ number announced in `X-Self-ID`.
    let selfID: Int64
    /// How many users this bot carries.
    let localUserCount: Int

    private let botCount: Int
    private let userIDBase: Int64
    private let timeout: UInt64
    private let heartbeatInterval: UInt64
    private let state: Locked<BotState>

    /// Largest frame accepted from or sent to the hub.
    static let maxFrameSize = 1 << 20

    /// - Parameters:
    ///   - index: this bot's index; users `g` with `g % botCount == index` belong to it.
    ///   - configuration: the run's settings.
    init(index: Int, configuration: LoadConfiguration) {
        self.index = index
        self.botCount = configuration.bots
        self.selfID = configuration.selfIDBase + Int64(index)
        self.userIDBase = configuration.userIDBase
        self.localUserCount = (configuration.users - index + configuration.bots - 1) / configuration.bots
        self.timeout = configuration.timeout
        self.heartbeatInterval = configuration.heartbeatInterval
        self.state = Locked(BotState(localUsers: localUserCount))
    }

    // MARK: Connection

    /// Connects to the hub and serves the connection until it closes. Never throws: a failure
    /// is recorded in the state (see ``status``) and every event in flight counts as an error.
    func run(url: String, token: String?, logger: Logger) async {
        var headers = HTTPFields()
        headers[.init("X-Self-ID")!] = String(selfID)
        headers[.init("X-Client-Role")!] = "Universal"
        if let token { headers[.authorization] = "Bearer \(token)" }
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: Self.maxFrameSize,
            additionalHeaders: headers,
            closeTimeout: .seconds(2)
        )
        var failure: String?
        do {
            let closeFrame = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                inbound, outbound, _ in
                try await self.serve(inbound: inbound, outbound: outbound)
            }
            // Ignored below when we closed first.
            if let closeFrame {
                failure = "closed by the hub: \(closeFrame.closeCode) \(closeFrame.reason ?? "")"
            }
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            failure = "WebSocket upgrade rejected (check --url, --token and that the hub accepts X-Self-ID \(selfID))"
        } catch {
            failure = "\(error)"
        }
        state.withLock { state in
            if !state.closing {
                state.failure = failure ?? "connection closed by the hub"
            }
            state.abandon()
        }
    }

    /// The reader loop: announces the connection, then answers every action frame.
    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let now = Monotonic.now()
        state.withLock { state in
            state.outbound = outbound
            state.connected = true
            state.lastHeartbeat = now
        }
        try await outbound.write(.text(OneBotFrames.lifecycleConnect(time: Self.unixTime(), selfID: selfID)))
        var replyMessageID: Int32 = Int32(index) << 24
        for try await message in inbound.messages(maxSize: Self.maxFrameSize) {
            guard case .text(var text) = message else { continue }
            let arrival = Monotonic.now()
            guard let request = ActionRequest.parse(&text) else { continue }
            replyMessageID &+= 1
            try await outbound.write(.text(OneBotFrames.response(to: request, selfID: selfID, messageID: replyMessageID)))
            let user = request.userID.flatMap(localUser(for:))
            let next: (user: Int, sequence: Int)? = state.withLock { state in
                guard request.isMessageReply else {
                    state.stats.otherActions += 1
                    return nil
                }
                guard let user else {
                    state.stats.unmatched += 1
                    return nil
                }
                guard state.completeReply(user: user, now: arrival),
                      let sequence = state.issueFromBudget(user: user, start: Monotonic.now())
                else { return nil }
                return (user, sequence)
            }
            if let next {
                try await outbound.write(.text(eventFrame(user: next.user, sequence: next.sequence)))
            }
        }
    }

    /// Closes the connection normally (the end of a run).
    func close() async {
        let outbound = state.withLock { state -> WebSocketOutboundWriter? in
            state.closing = true
            return state.finished ? nil : state.outbound
        }
        try? await outbound?.close(.normalClosure, reason: "load run finished")
    }

    // MARK: Driver interface

    /// A snapshot of the connection for the driver.
    struct Status: Sendable {
        var connected: Bool
        var finished: Bool
        var failure: String?
        var idle: Bool
        var replies: Int
        var timeouts: Int
    }

    /// The connection's current status.
    var status: Status {
        state.withLock { state in
            Status(
                connected: state.connected, finished: state.finished, failure: state.failure,
                idle: state.isIdle, replies: state.stats.replies, timeouts: state.stats.timeouts
            )
        }
    }

    /// Starts a closed-loop phase of `budget` events: one event per user goes out now, and
    /// each reply (or timeout) releases that user's next event until the budget is spent.
    func startClosedPhase(budget: Int) async {
        state.withLock { $0.beginPhase(closedLoop: true, budget: budget) }
        for user in 0..<localUserCount {
            let next = state.withLock { state -> (WebSocketOutboundWriter, Int)? in
                guard let outbound = state.outbound,
                      let sequence = state.issueFromBudget(user: user, start: Monotonic.now())
                else { return nil }
                return (outbound, sequence)
            }
            guard let (outbound, sequence) = next else { return }
            try? await outbound.write(.text(eventFrame(user: user, sequence: sequence)))
        }
    }

    /// Starts an open-loop phase: events come only from ``sendScheduled(user:scheduledAt:)``.
    func startOpenPhase() {
        state.withLock { $0.beginPhase(closedLoop: false, budget: 0) }
    }

    /// Open loop: sends one event for `user` whose latency counts from `scheduledAt`
    /// (monotonic ns), even if the send itself is late — no coordinated omission.
    func sendScheduled(user: Int, scheduledAt: UInt64) async {
        let next = state.withLock { state -> (WebSocketOutboundWriter, Int)? in
            guard !state.finished, let outbound = state.outbound else {
                state.stats.noteSent(start: scheduledAt)
                state.stats.errors += 1
                return nil
            }
            return (outbound, state.issue(user: user, start: scheduledAt))
        }
        guard let (outbound, sequence) = next else { return }
        try? await outbound.write(.text(eventFrame(user: user, sequence: sequence)))
    }

    /// Periodic work: times out overdue events (re-issuing in closed loop) and sends a
    /// heartbeat when one is due.
    func tick(now: UInt64) async {
        let work = state.withLock { state -> (WebSocketOutboundWriter, [(Int, Int)], Bool)? in
            guard !state.finished, let outbound = state.outbound else { return nil }
            var reissued: [(Int, Int)] = []
            for user in state.expire(now: now, timeout: timeout) {
                if let sequence = state.issueFromBudget(user: user, start: now) {
                    reissued.append((user, sequence))
                }
            }
            var heartbeat = false
            if heartbeatInterval > 0, now - state.lastHeartbeat >= heartbeatInterval {
                state.lastHeartbeat = now
                heartbeat = true
            }
            return (outbound, reissued, heartbeat)
        }
        guard let (outbound, reissued, heartbeat) = work else { return }
        if heartbeat {
            let interval = Int(heartbeatInterval / Monotonic.millisecond)
            try? await outbound.write(.text(OneBotFrames.heartbeat(time: Self.unixTime(), selfID: selfID, intervalMilliseconds: interval)))
        }
        for (user, sequence) in reissued {
            try? await outbound.write(.text(eventFrame(user: user, sequence: sequence)))
        }
    }

    /// Stops issuing events in the current phase; events in flight still finish or time out.
    func stopIssuing() {
        state.withLock { $0.dropBudget() }
    }

    /// The current phase's counters.
    func phaseStats() -> PhaseStats {
        state.withLock { $0.stats }
    }

    // MARK: Frames

    /// The QQ number of local user `user`.
    func userID(forLocal user: Int) -> Int64 {
        userIDBase + Int64(user * botCount + index)
    }

    /// The local index of the user with QQ number `userID`, if it belongs to this bot.
    private func localUser(for userID: Int64) -> Int? {
        let global = userID - userIDBase
        guard global >= 0, global % Int64(botCount) == Int64(index) else { return nil }
        let local = Int(global / Int64(botCount))
        return local < localUserCount ? local : nil
    }

    /// The private message event with bot-local sequence `sequence` from local user `user`.
    private func eventFrame(user: Int, sequence: Int) -> String {
        // Interleave bots so message ids are unique over the whole run.
        let messageID = Int32(truncatingIfNeeded: sequence &* botCount &+ index &+ 1)
        return OneBotFrames.privateMessage(
            time: Self.unixTime(), selfID: selfID, messageID: messageID,
            userID: userID(forLocal: user), sequence: sequence
        )
    }

    /// Wall-clock Unix time in seconds, for the events' `time` field.
    private static func unixTime() -> Int {
        Int(time(nil))
    }
}
