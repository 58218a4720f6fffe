// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOWebSocket

/// One simulated WebSocket client of the hub: a OneBot implementation on reverse WebSocket
/// (§1.4) pushing private message events for its share of the users and answering every action
/// (``OneBotDialect``), or a web chat page sending messages and reading streamed answers
/// (``WebChatDialect``). The dialect knows the frames; this class runs the connection.
///
/// The client is a NIO channel handler and does all its work on its channel's event loop: it
/// answers a frame inside `channelRead`, sends the user's next event right behind the answer
/// (closed loop) and flushes once per read burst. Open-loop sends, timeouts and heartbeats run
/// from timers on the same loop. Nothing crosses threads per event, which keeps the generator
/// several times cheaper than the hub it measures.
///
/// Thread safety: every mutable property is touched only on ``eventLoop``; the driver calls the
/// `async` methods of ``LoadConnection`` and `SimulatedClient+Connect.swift`, which hop onto the
/// loop. That is why the class can be `@unchecked Sendable`.
final class SimulatedClient<Dialect: ClientDialect>: ChannelInboundHandler, LoadConnection, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let index: Int
    let localUserCount: Int
    let eventLoop: any EventLoop
    let timeout: UInt64
    let heartbeatInterval: UInt64
    var name: String { dialect.name }
    var tickPeriod: TimeAmount { Self.tickPeriod }

    // Event-loop confined state.
    var dialect: Dialect
    var state: BotState
    var context: ChannelHandlerContext?
    /// The channel once it exists, so a connect timeout can close it before the upgrade.
    var channel: (any Channel)?
    var schedule: OpenLoopSchedule?
    var scheduleTimer: Scheduled<Void>?
    var tickTask: RepeatedTask?
    /// Completed when the connection is ready for events (or failed); `nil` once settled.
    var readyPromise: EventLoopPromise<Void>?
    /// Completed when the open connection closes; `nil` until the WebSocket is open.
    var closedPromise: EventLoopPromise<Void>?
    private var random: FastRandom
    private var fragments: ByteBuffer?
    private var needsFlush = false

    /// Largest frame accepted from the hub.
    static var maxFrameSize: Int { 1 << 20 }
    /// Period of the timeout / heartbeat check.
    static var tickPeriod: TimeAmount { .milliseconds(10) }

    /// - Parameters:
    ///   - index: this connection's index among all of the run's.
    ///   - dialect: what the connection says.
    ///   - timeout: per-event answer timeout, ns.
    ///   - heartbeatInterval: heartbeat period, ns; 0 sends none.
    ///   - eventLoop: the loop to run the connection on.
    init(index: Int, dialect: Dialect, timeout: UInt64, heartbeatInterval: UInt64, eventLoop: any EventLoop) {
        self.index = index
        self.dialect = dialect
        self.localUserCount = dialect.localUserCount
        self.timeout = timeout
        self.heartbeatInterval = heartbeatInterval
        self.eventLoop = eventLoop
        self.state = BotState(localUsers: localUserCount)
        self.random = FastRandom(seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        // The HTTP upgrade handler is still in the pipeline and fails writes until the upgrade
        // completes, so the first frame goes out from `start()`, called once it has.
        self.context = context
        closedPromise = context.eventLoop.makePromise()
    }

    /// Once the upgrade has completed: sends the dialect's opening frame (OneBot's
    /// `lifecycle.connect`, §3.5), starts the heartbeat and, unless a greeting must come
    /// first, reports the connection ready.
    func start() {
        guard context != nil, !state.finished else { return }
        state.connected = true
        state.lastHeartbeat = Monotonic.now()
        if let opening = dialect.openingFrame() { write(text: opening) }
        flushIfNeeded()
        if heartbeatInterval > 0 { startTicking() }
        if !dialect.awaitsGreeting { settleReady(.success(())) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin {
                handleText(frame.unmaskedData)
            } else {
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var partial = fragments else { return }
            var more = frame.unmaskedData
            partial.writeBuffer(&more)
            if frame.fin {
                fragments = nil
                handleText(partial)
            } else {
                fragments = partial
            }
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(using: &random), data: frame.unmaskedData))
        case .connectionClose:
            if !state.closing {
                noteFailure("closed by the hub (\(Self.closeCode(frame.unmaskedData)))")
                state.closing = true
                var data = frame.unmaskedData
                let echoed = data.readSlice(length: min(2, data.readableBytes)) ?? ByteBuffer()
                write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(using: &random), data: echoed))
            }
            flushIfNeeded()
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelEnded(by: "hub")
        settleReady(.failure(LoadRunError.closedBeforeReady(state.failure ?? "closed")))
        self.context = nil
        closedPromise?.succeed(())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        noteFailure("\(error)")
        context.close(promise: nil)
    }

    /// Completes ``readyPromise`` once.
    func settleReady(_ result: Result<Void, any Error>) {
        guard let promise = readyPromise else { return }
        readyPromise = nil
        promise.completeWith(result)
    }

    /// Gives up on a connection that is not ready yet: fails the connect with `error` and closes
    /// the channel (not counted as a failure of an open connection).
    func abandonConnect(_ error: any Error) {
        guard readyPromise != nil else { return }
        settleReady(.failure(error))
        state.closing = true
        channel?.close(promise: nil)
    }

    // MARK: Frames in

    /// Lets the dialect read a text message, sends its response, and books what it means:
    /// a completed event releases the user's next one in closed loop.
    private func handleText(_ buffer: ByteBuffer) {
        let arrival = Monotonic.now()
        let message = buffer.withUnsafeReadableBytes { raw in
            raw.withMemoryRebound(to: UInt8.self) { dialect.read($0) }
        }
        if let response = message.response { write(text: response) }
        switch message.meaning {
        case .ignored:
            break
        case .greeting:
            settleReady(.success(()))
        case .fault(let reason):
            if readyPromise != nil {
                abandonConnect(LoadRunError.closedBeforeReady(reason))
            } else {
                state.stats.otherActions += 1
            }
        case .other:
            state.stats.otherActions += 1
        case .unmatched:
            state.stats.unmatched += 1
        case .piece(let user, let sequence):
            state.notePiece(user: user, sequence: sequence, now: arrival)
        case .reply(let user, let sequence):
            if state.completeReply(user: user, sequence: sequence, now: arrival) { continueClosedLoop(user: user) }
        case .refusal(let user, let sequence, let reason):
            if state.completeRefusal(user: user, sequence: sequence, reason: reason, now: arrival) { continueClosedLoop(user: user) }
        }
    }

    // MARK: Timers

    /// Every ``tickPeriod``: time out overdue events (re-issuing in closed loop) and send a
    /// heartbeat when one is due.
    func tick() {
        guard context != nil, !state.finished else { return }
        expireOverdue(timeout: timeout)
        let now = Monotonic.now()
        if heartbeatInterval > 0, now - state.lastHeartbeat >= heartbeatInterval {
            state.lastHeartbeat = now
            if let heartbeat = dialect.heartbeatFrame(intervalMilliseconds: Int(heartbeatInterval / Monotonic.millisecond)) {
                write(text: heartbeat)
            }
        }
        flushIfNeeded()
    }

    // MARK: Frames out

    func send(user: Int, sequence: Int) {
        write(text: dialect.eventFrame(user: user, sequence: sequence))
    }

    /// Queues a masked text frame; ``flushIfNeeded()`` sends it.
    func write(text: String) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(using: &random), data: buffer))
    }

    func write(_ frame: WebSocketFrame) {
        guard let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        needsFlush = true
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// The status code of a close frame's payload, or "no code".
    private static func closeCode(_ data: ByteBuffer) -> String {
        guard let code = data.getInteger(at: data.readerIndex, as: UInt16.self) else { return "no code" }
        return "code \(code)"
    }
}
