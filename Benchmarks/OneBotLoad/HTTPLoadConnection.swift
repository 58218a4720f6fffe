// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1
import NIOPosix

/// The request every ``HTTPLoadConnection`` sends: a `POST` with a fixed JSON body.
struct HTTPLoadRequest: Sendable {
    /// Path plus query, e.g. `/v1/chat/completions`.
    var path: String
    var body: String
    /// Extra headers (`Authorization`).
    var headers: [(String, String)] = []
}

/// One keep-alive HTTP/1.1 connection of `http-load`, driven by ``LoadRun`` like a simulated bot.
///
/// Requests are not pipelined: one is on the wire at a time, and requests that fall due while
/// one is out wait in line on this connection. Their latency still counts from the scheduled
/// time, so waiting in line is measured, not hidden. A 2xx response is a reply; any other status
/// is a refusal, counted by status code. A request that times out closes the connection (its
/// response could no longer be told from the next one's); the connection's later requests then
/// count as errors.
///
/// Thread safety: as ``SimulatedClient``, everything mutable is confined to ``eventLoop``.
final class HTTPLoadConnection: ChannelInboundHandler, LoadConnection, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let index: Int
    var localUserCount: Int { 1 }
    var name: String { "connection \(index)" }
    let eventLoop: any EventLoop
    /// Per-request timeout, ns.
    let timeout: UInt64
    /// Timeouts need no finer check than this; a coarse tick keeps the tool's own cost down.
    var tickPeriod: TimeAmount { .milliseconds(100) }
    private let request: HTTPLoadRequest

    // Event-loop confined state.
    var state = BotState(localUsers: 1)
    var schedule: OpenLoopSchedule?
    var scheduleTimer: Scheduled<Void>?
    var tickTask: RepeatedTask?
    private var context: ChannelHandlerContext?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var closedPromise: EventLoopPromise<Void>?
    /// A request is on the wire and its response not complete.
    private var onWire = false
    /// Requests issued but waiting for the connection.
    private var waiting = 0
    /// Status of the response being read.
    private var status = 0
    private var needsFlush = false

    init(index: Int, request: HTTPLoadRequest, timeout: UInt64, eventLoop: any EventLoop) {
        self.index = index
        self.request = request
        self.timeout = timeout
        self.eventLoop = eventLoop
    }

    // MARK: Connecting

    func connect(to endpoint: Endpoint, token: String?, timeout: TimeAmount) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "User-Agent", value: "OneBotLoad/1.0")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(request.body.utf8.count))
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        headers.add(contentsOf: request.headers)
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: request.path, headers: headers)
        let body = ByteBuffer(string: request.body)
        try await ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    self.head = head
                    self.body = body
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(self)
                }
            }
        try await eventLoop.submit { self.state.connected = true }.get()
    }

    func close(grace: TimeAmount) async {
        let closed = try? await eventLoop.submit { () -> EventLoopFuture<Void>? in
            self.state.closing = true
            self.stopTimers()
            guard let context = self.context else { return nil }
            context.close(promise: nil)
            return self.closedPromise?.futureResult
        }.get()
        try? await closed?.get()
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        closedPromise = context.eventLoop.makePromise()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
        case .body:
            break
        case .end:
            let arrival = Monotonic.now()
            onWire = false
            let answered = (200..<300).contains(status)
                ? state.completeReply(user: 0, now: arrival)
                : state.completeRefusal(user: 0, reason: String(status), now: arrival)
            if answered { continueClosedLoop(user: 0) }
            if !onWire, waiting > 0 {
                waiting -= 1
                writeRequest()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelEnded(by: "server")
        waiting = 0
        self.context = nil
        closedPromise?.succeed(())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        noteFailure("\(error)")
        context.close(promise: nil)
    }

    // MARK: LoadConnection

    /// Writes the request now, or puts it in line behind the one on the wire.
    func send(user: Int, sequence: Int) {
        if onWire {
            waiting += 1
        } else {
            writeRequest()
        }
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// Overdue requests time out, and the connection closes behind them.
    func tick() {
        guard let context, !state.finished else { return }
        if expireOverdue(timeout: timeout) {
            noteFailure("closed after a request timed out")
            context.close(promise: nil)
        }
    }

    private func writeRequest() {
        guard let context, let head else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        onWire = true
        needsFlush = true
    }
}
