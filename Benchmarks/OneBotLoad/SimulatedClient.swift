// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import NIOWebSocket

/// One simulated OneBot implementation: a reverse WebSocket connection to the hub (§1.4) that
/// pushes private message events for its share of the users and answers every action.
///
/// The bot is a NIO channel handler and does all its work on its channel's event loop: it
/// answers an action inside `channelRead`, sends the user's next event right behind the
/// answer (closed loop) and flushes once per read burst. Open-loop sends, timeouts and
/// heartbeats run from timers on the same loop. Nothing crosses threads per event, which
/// keeps the generator several times cheaper than the hub it measures.
///
/// Thread safety: every mutable property is touched only on ``eventLoop``; the driver calls
/// the `async` methods in `SimulatedBot+Driver.swift`, which hop onto the loop. That is why the
/// class can be `@unchecked Sendable`.
final class SimulatedBot: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Index of this bot among all bots (0-based).
    let index: Int
    /// The QQ number announced in `X-Self-ID`.
    let selfID: Int64
    /// How many users this bot carries.
    let localUserCount: Int
    /// The event loop that owns this bot and its channel.
    let eventLoop: any EventLoop

    let botCount: Int
    let userIDBase: Int64
    let timeout: UInt64
    let heartbeatInterval: UInt64

    // Event-loop confined state.
    var state: BotState
    var context: ChannelHandlerContext?
    var schedule: OpenLoopSchedule?
    var scheduleTimer: Scheduled<Void>?
    /// Completed when the open connection closes; `nil` until the WebSocket is open.
    var closedPromise: EventLoopPromise<Void>?
    private var tickTask: RepeatedTask?
    private var random: FastRandom
    private var fragments: ByteBuffer?
    private var replyMessageID: Int32
    private var needsFlush = false

    /// Largest frame accepted from the hub.
    static let maxFrameSize = 1 << 20
    /// Period of the timeout / heartbeat check.
    static let tickPeriod = TimeAmount.milliseconds(10)

    /// - Parameters:
    ///   - index: this bot's index; users `g` with `g % bots == index` belong to it.
    ///   - configuration: the run's settings.
    ///   - eventLoop: the loop to run the connection on.
    init(index: Int, configuration: LoadConfiguration, eventLoop: any EventLoop) {
        self.index = index
        self.botCount = configuration.bots
        self.selfID = configuration.selfIDBase + Int64(index)
        self.userIDBase = configuration.userIDBase
        self.localUserCount = (configuration.users - index + configuration.bots - 1) / configuration.bots
        self.timeout = configuration.timeout
        self.heartbeatInterval = configuration.heartbeatInterval
        self.eventLoop = eventLoop
        self.state = BotState(localUsers: localUserCount)
        self.random = FastRandom(seed: UInt64(bitPattern: selfID) &* 0x9E37_79B9_7F4A_7C15)
        self.replyMessageID = Int32(truncatingIfNeeded: index) << 24
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        // The HTTP upgrade handler is still in the pipeline and fails writes until the upgrade
        // completes, so the first frame goes out from `start()`, called once it has.
        self.context = context
        closedPromise = context.eventLoop.makePromise()
    }

    /// Once the upgrade has completed: sends `lifecycle.connect` (the first frame, §3.5) and
    /// starts the timeout / heartbeat timer.
    func start() {
        guard let context, !state.finished else { return }
        state.connected = true
        state.lastHeartbeat = Monotonic.now()
        write(text: OneBotFrames.lifecycleConnect(time: Self.unixTime(), selfID: selfID))
        flushIfNeeded()
        tickTask = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.tickPeriod, delay: Self.tickPeriod) {
            [self] _ in self.tick()
        }
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
                state.failure = state.failure ?? "closed by the hub (\(Self.closeCode(frame.unmaskedData)))"
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
        if !state.closing {
            state.failure = state.failure ?? "connection closed by the hub"
        }
        state.abandon()
        stopTimers()
        self.context = nil
        closedPromise?.succeed(())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !state.closing {
            state.failure = state.failure ?? "\(error)"
        }
        context.close(promise: nil)
    }

    // MARK: Frames in

    /// Answers an action frame, matches a message reply to its user's oldest event and, in
    /// closed loop, sends that user's next event.
    private func handleText(_ buffer: ByteBuffer) {
        let arrival = Monotonic.now()
        let request = buffer.withUnsafeReadableBytes { raw in
            raw.withMemoryRebound(to: UInt8.self) { ActionRequest.parse($0) }
        }
        guard let request else { return }
        replyMessageID &+= 1
        write(text: OneBotFrames.response(to: request, selfID: selfID, messageID: replyMessageID))
        guard request.isMessageReply else {
            state.stats.otherActions += 1
            return
        }
        guard let user = request.userID.flatMap(localUser(for:)) else {
            state.stats.unmatched += 1
            return
        }
        if state.completeReply(user: user, now: arrival),
           let sequence = state.issueFromBudget(user: user, start: Monotonic.now()) {
            write(text: eventFrame(user: user, sequence: sequence))
        }
    }

    // MARK: Timers

    /// Every ``tickPeriod``: time out overdue events (re-issuing in closed loop) and send a
    /// heartbeat when one is due.
    private func tick() {
        guard context != nil, !state.finished else { return }
        let now = Monotonic.now()
        for user in state.expire(now: now, timeout: timeout) {
            if let sequence = state.issueFromBudget(user: user, start: now) {
                write(text: eventFrame(user: user, sequence: sequence))
            }
        }
        if heartbeatInterval > 0, now - state.lastHeartbeat >= heartbeatInterval {
            state.lastHeartbeat = now
            let interval = Int(heartbeatInterval / Monotonic.millisecond)
            write(text: OneBotFrames.heartbeat(time: Self.unixTime(), selfID: selfID, intervalMilliseconds: interval))
        }
        flushIfNeeded()
    }

    /// Open loop: sends every event that has fallen due, keeping its scheduled time as the
    /// start of its latency, then arms a timer for the next one.
    func runSchedule() {
        scheduleTimer = nil
        guard var current = schedule else { return }
        let now = Monotonic.now()
        while !current.isDone, current.nextDue <= now {
            if state.finished {
                state.stats.noteSent(start: current.nextDue)
                state.stats.errors += 1
            } else {
                let sequence = state.issue(user: current.nextLocalUser, start: current.nextDue)
                write(text: eventFrame(user: current.nextLocalUser, sequence: sequence))
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

    func stopTimers() {
        tickTask?.cancel()
        tickTask = nil
        scheduleTimer?.cancel()
        scheduleTimer = nil
        schedule = nil
    }

    // MARK: Frames out

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

    /// The private message event with bot-local sequence `sequence` from local user `user`.
    func eventFrame(user: Int, sequence: Int) -> String {
        // Interleave bots so message ids are unique over the whole run.
        let messageID = Int32(truncatingIfNeeded: sequence &* botCount &+ index &+ 1)
        return OneBotFrames.privateMessage(
            time: Self.unixTime(), selfID: selfID, messageID: messageID,
            userID: userIDBase + Int64(user * botCount + index), sequence: sequence
        )
    }

    /// The local index of the user with QQ number `userID`, if it belongs to this bot.
    private func localUser(for userID: Int64) -> Int? {
        let global = userID - userIDBase
        guard global >= 0, global % Int64(botCount) == Int64(index) else { return nil }
        let local = Int(global / Int64(botCount))
        return local < localUserCount ? local : nil
    }

    /// Wall-clock Unix time in seconds, for the events' `time` field.
    static func unixTime() -> Int {
        Int(time(nil))
    }

    /// The status code of a close frame's payload, or "no code".
    private static func closeCode(_ data: ByteBuffer) -> String {
        guard let code = data.getInteger(at: data.readerIndex, as: UInt16.self) else { return "no code" }
        return "code \(code)"
    }
}
