// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix
import Synchronization

/// A raw TCP connection to the hub, for requests no HTTP client would send: bytes go out as given,
/// everything the server sends is kept, and the server's close is observed.
final class RawConnection: Sendable {
    struct StillOpen: Error, CustomStringConvertible {
        let received: String
        var description: String { "the connection was still open; received: \(received.prefix(200))" }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex([UInt8]())
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLock { $0 += buffer.readableBytesView }
        }
        // A reset after the answer (the server closed with our bytes unread) is no failure here.
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func open(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    /// The local port, which names the connection in `/proc/net/tcp`.
    var localPort: Int { channel.localAddress?.port ?? 0 }

    /// What the server sent so far.
    var received: String { String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self) }

    /// Whether the connection is still open.
    var isOpen: Bool { channel.isActive }

    /// Waits until the server has sent `count` complete responses and returns them.
    func waitForAnswers(_ count: Int, timeout: Duration = .seconds(5)) async throws -> [HTTPAnswer] {
        try await eventually("\(count) answers; received \(received.prefix(200).debugDescription)", timeout: timeout) {
            HTTPAnswer.complete(in: received).count >= count
        }
        return HTTPAnswer.complete(in: received)
    }

    /// Writes `bytes`; false when the server closed before taking them all (it may answer and close
    /// while a large request is still on its way).
    @discardableResult
    func send(_ bytes: some Sequence<UInt8>) async -> Bool {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: Array(bytes))).get()
            return true
        } catch {
            return false
        }
    }

    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    /// Waits until the server closes the connection and returns what it sent; throws
    /// ``StillOpen`` (and closes it) when it is still open after `timeout`.
    func waitUntilClosed(timeout: Duration) async throws -> String {
        let closed = channel.closeFuture
        let serverClosed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await closed.get()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            // Either the close came, or we close: the task waiting for it ends both ways.
            if !first { close() }
            group.cancelAll()
            return first
        }
        guard serverClosed else { throw StillOpen(received: received) }
        return received
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Writes `request` and waits for the server to answer and close.
    static func exchange(port: Int, _ request: String, timeout: Duration = .seconds(5)) async throws -> HTTPAnswer {
        let connection = try await open(port: port)
        await connection.send(request)
        return try HTTPAnswer(parsing: await connection.waitUntilClosed(timeout: timeout))
    }
}
