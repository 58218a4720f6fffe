// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// Closes a connection whose request does not arrive in time, so half-sent requests cannot pile up
/// and hold file descriptors (`server.request_timeout`).
///
/// - The head of a request must be in within `timeout` of its first byte.
/// - Its body must keep coming: each read within `timeout` of the previous one, counted only while
///   the hub asks for more (a route that holds the body back does not make the client late).
/// - A client that sent part of a request is answered 408 with the hub's JSON error (unless the
///   answer could be mistaken for another response: one has begun, or one is owed to an earlier
///   request), and closed.
///
/// A connection that has sent nothing yet is idle, as one between requests is: it is closed
/// silently after `idleTimeout` (Hummingbird's `HTTPConnectionStateHandler` times out the idle
/// time between requests, but it joins the pipeline only with the first request). Once a request
/// is in, nothing here limits how long its answer takes. The handler works where HTTP/1 parts
/// travel and leaves the pipeline when the connection becomes a WebSocket.
final class RequestReadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Waiting for a request's head; `begun` once a byte of it arrived.
        case head(begun: Bool)
        /// The head is in, the body on its way.
        case body
        /// The request is in and being answered.
        case answering
        /// The answer is out; nothing of the next request arrived yet.
        case idle
    }

    private let timeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let logger: Logger
    private var phase = Phase.head(begun: false)
    private var progress = ExchangeProgress()
    /// Whether the pipeline asked for bytes that have not arrived yet.
    private var readWanted = false
    private var deadline = NIODeadline.distantFuture
    /// The pending timer and when it fires.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    init(timeout: TimeAmount, idleTimeout: TimeAmount?, logger: Logger) {
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let idleTimeout { restart(context, after: idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        progress.read(part)
        switch part {
        case .head:
            phase = .body
            restart(context)
        case .body:
            break
        case .end:
            // Answered already (a route may answer before the body is in): idle at once.
            phase = progress.unanswered == 0 ? .idle : .answering
            stop()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readWanted = false
        switch phase {
        case .idle:
            phase = .head(begun: true)
            restart(context)
        case .head(begun: false):
            phase = .head(begun: true)
            restart(context)
        case .body:
            restart(context)
        case .head(begun: true), .answering:
            break
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if case .body = phase, !readWanted {
            // The hub asks for more of the body: the client's time runs from now.
            restart(context)
        }
        readWanted = true
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        progress.wrote(unwrapOutboundIn(data))
        if case .answering = phase, progress.unanswered == 0 { phase = .idle }
        context.write(data, promise: promise)
    }

    // MARK: Timer

    /// Moves the deadline to `after` (the request timeout) from now. A pending timer that fires
    /// before it reschedules itself, so a later deadline costs no new timer.
    private func restart(_ context: ChannelHandlerContext, after: TimeAmount? = nil) {
        deadline = .now() + (after ?? timeout)
        if let timer, timer.at <= deadline { return }
        schedule(context)
    }

    private func schedule(_ context: ChannelHandlerContext) {
        stop()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            expired(context)
        }
        timer = (task, deadline)
    }

    private func stop() {
        timer?.task.cancel()
        timer = nil
    }

    private func expired(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if NIODeadline.now() < deadline {
            return schedule(context)
        }
        switch phase {
        case .head(begun: false):
            logger.debug("connection idle before its first request: closed")
            context.close(promise: nil)
        case .body where !readWanted:
            // The hub is not reading the body; wait for it to ask again.
            restart(context)
        case .head(begun: true), .body:
            logger.debug("request not received in time: closed")
            if progress.mayAnswer {
                let seconds = Double(timeout.nanoseconds) / 1e9
                let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
                ClosingErrorResponse(.requestTimeout, "the request did not arrive in full within \(shown) s").writeAndClose(context)
            } else {
                context.close(promise: nil)
            }
        case .answering, .idle:
            break
        }
    }
}

@available(*, unavailable)
extension RequestReadTimeout: Sendable {}
