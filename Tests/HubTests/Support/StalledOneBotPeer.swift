// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// A OneBot implementation on a raw socket that can stop reading it: it completes the reverse
/// WebSocket handshake, then reads nothing more until ``resumeReading()`` (automatic reads off, a
/// small receive buffer), while it keeps writing masked text frames. The hub's replies pile up in
/// the kernel's buffers and then in the hub, as with a bot process that hangs.
final class StalledOneBotPeer: Sendable {
    struct HandshakeFailed: Error, CustomStringConvertible {
        let response: String
        var description: String { "the hub did not upgrade the connection: \(response.prefix(300))" }
    }

    struct StillOpen: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "the connection was still open after \(after)" }
    }

    let channel: any Channel
    private let inbound: InboundLog

    private init(channel: any Channel, inbound: InboundLog) {
        self.channel = channel
        self.inbound = inbound
    }

    /// Connects to the hub's reverse WebSocket as bot `selfID` (or to another WebSocket `path` of
    /// the hub, such as a web chat's) and completes the handshake.
    static func connect(
        port: Int, selfID: Int64, path: String = "/onebot/v11/ws", receiveBuffer: Int = 4096
    ) async throws -> StalledOneBotPeer {
        let log = InboundLog()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: receiveBuffer)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(InboundRecorder(log: log)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let peer = StalledOneBotPeer(channel: channel, inbound: log)
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Self-ID: \(selfID)\r\n"
            + "X-Client-Role: Universal\r\nAuthorization: Bearer \(TestHub.token)\r\nUser-Agent: CQHttp/4.15.0\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        // Reads one buffer at a time, only until the end of the response head.
        let deadline = ContinuousClock.now + .seconds(5)
        while !log.head.contains("\r\n\r\n") {
            guard ContinuousClock.now < deadline, channel.isActive else { throw HandshakeFailed(response: log.head) }
            channel.read()
            try await Task.sleep(for: .milliseconds(10))
        }
        guard log.head.hasPrefix("HTTP/1.1 101") else { throw HandshakeFailed(response: log.head) }
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder(), position: ChannelPipeline.SynchronousOperations.Position.first)
        }.get()
        return peer
    }

    /// Writes one masked text frame (it goes out even while the peer does not read).
    func send(_ text: String) async throws {
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        try await channel.writeAndFlush(frame).get()
    }

    /// Writes one masked frame of `opcode` carrying exactly `bytes` (which need not be valid UTF-8).
    func send(bytes: [UInt8], opcode: WebSocketOpcode = .text) async throws {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(bytes: bytes))
        try await channel.writeAndFlush(frame).get()
    }

    /// The status code of the first close frame the hub sent, among the first 16 KiB read after
    /// the handshake; nil when none was read.
    var closeCode: UInt16? {
        var bytes = inbound.headBytesAfterHandshake[...]
        while bytes.count >= 2 {
            let opcode = bytes[bytes.startIndex] & 0x0F
            var length = Int(bytes[bytes.startIndex + 1] & 0x7F)
            var offset = 2
            if length == 126, bytes.count >= 4 {
                length = Int(bytes[bytes.startIndex + 2]) << 8 | Int(bytes[bytes.startIndex + 3])
                offset = 4
            } else if length == 127 {
                return nil  // not in a test's first 16 KiB
            }
            guard bytes.count >= offset + length else { return nil }
            let payload = bytes.dropFirst(offset).prefix(length)
            if opcode == 0x8, payload.count >= 2 { return UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1]) }
            bytes = bytes.dropFirst(offset + length)
        }
        return nil
    }

    /// Turns reading back on: what the hub sent is read (and dropped), up to the end of the stream.
    func resumeReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// Bytes read so far, the handshake's included.
    var bytesRead: Int { inbound.total.load(ordering: .acquiring) }

    /// Waits until the connection has ended (end of stream read, or reset).
    func waitUntilClosed(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while channel.isActive {
            guard ContinuousClock.now < deadline else { throw StillOpen(after: timeout) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Closes the socket (at the end of a test).
    func close() async {
        try? await channel.close().get()
    }
}

/// What the peer read: the HTTP response head in full, afterwards only a count.
private final class InboundLog: Sendable {
    private let headBytes = Mutex([UInt8]())
    let total = Atomic<Int>(0)

    var head: String { headBytes.withLock { String(decoding: $0, as: UTF8.self) } }

    /// What was read after the response head (the server's frames), as far as kept.
    var headBytesAfterHandshake: [UInt8] {
        headBytes.withLock { bytes in
            let marker: [UInt8] = Array("\r\n\r\n".utf8)
            guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == marker }) else { return [] }
            return Array(bytes[(end + 4)...])
        }
    }

    func record(_ buffer: ByteBuffer) {
        headBytes.withLock { bytes in
            if bytes.count < 16_384 { bytes += buffer.readableBytesView.prefix(16_384 - bytes.count) }
        }
        total.add(buffer.readableBytes, ordering: .acquiringAndReleasing)
    }
}

private final class InboundRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let log: InboundLog

    init(log: InboundLog) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.record(unwrapInboundIn(data))
    }
}
