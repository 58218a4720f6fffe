// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import Hub

/// The hub's WebSocket keepalive on an embedded channel with a virtual clock: a ping each period,
/// a peer that answers stays, a peer that does not is closed with 1001 at the next period, and a
/// closed connection leaves no timer behind.
struct WebSocketKeepaliveTests {
    func setUp() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: WebSocketKeepalive(period: .seconds(30)), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, loop)
    }

    func pong(answering ping: WebSocketFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, data: ping.unmaskedData)
    }

    @Test func aPeerThatAnswersIsPingedEachPeriodAndKept() throws {
        let (channel, loop) = try setUp()
        loop.advanceTime(by: .seconds(29))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil)
        for _ in 0..<3 {
            loop.advanceTime(by: .seconds(1))
            let ping = try #require(try channel.readOutbound(as: WebSocketFrame.self))
            #expect(ping.opcode == .ping)
            try channel.writeInbound(pong(answering: ping))
            // The pong goes on to the WebSocket handler.
            #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .pong)
            loop.advanceTime(by: .seconds(29))
        }
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aPeerThatDoesNotAnswerIsClosedAtTheNextPeriod() throws {
        let (channel, loop) = try setUp()
        loop.advanceTime(by: .seconds(30))
        let ping = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        // A pong with other data does not count.
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer(bytes: [1, 2, 3])))
        _ = try channel.readInbound(as: WebSocketFrame.self)
        #expect(ping.opcode == .ping)
        loop.advanceTime(by: .seconds(30))
        let close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(close.opcode == .connectionClose)
        var data = close.unmaskedData
        #expect(data.readWebSocketErrorCode() == .goingAway)
        #expect(!channel.isActive)
    }

    @Test func aClosedConnectionLeavesNoTimer() throws {
        let (channel, loop) = try setUp()
        try channel.close().wait()
        loop.advanceTime(by: .seconds(120))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil)
        // Nothing left scheduled: running the loop dry does nothing.
        loop.run()
    }
}
