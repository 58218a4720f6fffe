// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The driver's side of a ``SimulatedBot``: connecting, phases and status. Each method hops
/// onto the bot's event loop, so it can be called from any task.
extension SimulatedBot {
    /// A snapshot of the connection for the driver.
    struct Status: Sendable {
        var connected: Bool
        var finished: Bool
        var failure: String?
        /// Nothing in flight and nothing left to send in the current phase.
        var idle: Bool
        /// Events remain to be sent in the current phase (closed-loop budget or open-loop schedule).
        var pending: Bool
        var replies: Int
    }

    /// Opens the reverse WebSocket (§1.4): `X-Self-ID`, `X-Client-Role: Universal` and, with a
    /// token, `Authorization: Bearer`. Returns once the upgrade succeeded and the
    /// `lifecycle.connect` event is on its way.
    func connect(to endpoint: WebSocketEndpoint, token: String?, timeout: TimeAmount) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "User-Agent", value: "OneBotLoad/1.0")
        headers.add(name: "X-Self-ID", value: String(selfID))
        headers.add(name: "X-Client-Role", value: "Universal")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)

        let upgraded = try await ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(maxFrameSize: Self.maxFrameSize) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(self)
                            return true
                        }
                    }
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
                        upgradeRequestHead: head,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(false)
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
        guard try await upgraded.get() else { throw LoadRunError.upgradeRejected }
        try await eventLoop.submit { self.start() }.get()
    }

    /// The connection's current status.
    func status() async throws -> Status {
        try await eventLoop.submit {
            Status(
                connected: self.state.connected, finished: self.state.finished, failure: self.state.failure,
                idle: self.state.isIdle && self.schedule == nil,
                pending: !self.state.finished && (self.state.budget > 0 || self.schedule != nil),
                replies: self.state.stats.replies
            )
        }.get()
    }

    /// Starts a closed-loop phase of `budget` events: one event per user goes out now, and each
    /// reply (or timeout) releases that user's next event until the budget is spent.
    func startClosedPhase(budget: Int) async throws {
        try await eventLoop.submit {
            self.state.beginPhase(closedLoop: true, budget: budget)
            for user in 0..<self.localUserCount {
                guard let sequence = self.state.issueFromBudget(user: user, start: Monotonic.now()) else { break }
                self.write(text: self.eventFrame(user: user, sequence: sequence))
            }
            self.flushIfNeeded()
        }.get()
    }

    /// Starts an open-loop phase: this bot sends its share of `schedule` from its own timers.
    func startOpenPhase(_ schedule: OpenLoopSchedule) async throws {
        try await eventLoop.submit {
            self.state.beginPhase(closedLoop: false, budget: 0)
            self.schedule = schedule.isDone ? nil : schedule
            self.runSchedule()
        }.get()
    }

    /// Stops issuing events in the current phase; events in flight still finish or time out.
    func stopIssuing() async throws {
        try await eventLoop.submit {
            self.state.dropBudget()
            self.scheduleTimer?.cancel()
            self.scheduleTimer = nil
            self.schedule = nil
        }.get()
    }

    /// The current phase's counters.
    func phaseStats() async throws -> PhaseStats {
        try await eventLoop.submit { self.state.stats }.get()
    }

    /// Closes the connection normally (close code 1000), forcing it shut after `grace` if the
    /// hub does not answer the close frame. Returns when the connection is closed.
    func close(grace: TimeAmount = .seconds(2)) async {
        let closed = try? await eventLoop.submit { () -> EventLoopFuture<Void>? in
            self.state.closing = true
            self.stopTimers()
            guard let context = self.context else { return nil }
            var code = context.channel.allocator.buffer(capacity: 2)
            code.writeInteger(UInt16(1000))
            var random = FastRandom(seed: Monotonic.now())
            self.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(using: &random), data: code))
            self.flushIfNeeded()
            let channel = context.channel
            self.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
            return self.closedPromise?.futureResult
        }.get()
        try? await closed?.get()
    }
}
