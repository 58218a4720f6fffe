// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOWebSocket

/// Pings a WebSocket peer every `period` and closes the connection (1001, "ping timeout") when the
/// previous ping got no pong, on the channel's event loop.
///
/// This replaces swift-websocket's auto-ping, whose loop waits with `Task.sleep`: a sleep cancelled
/// when the connection closes keeps its memory until its deadline would have passed (Swift runtime
/// issue swiftlang/swift#60441), so every closed connection held about 0.7 KiB for 30 s, and a hub
/// with many short connections grew with their rate. An event-loop timer is freed when cancelled.
final class WebSocketKeepalive: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let period: TimeAmount
    private var timer: Scheduled<Void>?
    /// The payload of the ping still waiting for its pong.
    private var awaiting: UInt64?
    private var sent: UInt64 = 0

    init(period: TimeAmount) {
        self.period = period
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { schedule(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.opcode == .pong, let awaiting, frame.fin {
            var payload = frame.unmaskedData
            if payload.readInteger(as: UInt64.self) == awaiting { self.awaiting = nil }
        }
        context.fireChannelRead(data)
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }

    private func schedule(_ context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: period) {
            let (handler, context) = bound.value
            handler.tick(context)
        }
    }

    private func tick(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if awaiting != nil {
            var reason = context.channel.allocator.buffer(capacity: 16)
            reason.write(webSocketErrorCode: .goingAway)
            reason.writeString("ping timeout")
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)), promise: nil)
            context.close(promise: nil)
            return
        }
        sent &+= 1
        awaiting = sent
        var payload = context.channel.allocator.buffer(capacity: 8)
        payload.writeInteger(sent)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        schedule(context)
    }
}
