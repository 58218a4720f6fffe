// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1
import NIOPosix

/// The least an HTTP/1.1 call can cost a Swift caller: one keep-alive NIO channel with NIO's own
/// codec, a request written as it is and the response body collected, one request at a time.
///
/// `client-floor` measures it beside AsyncHTTPClient to show what the client library adds on
/// top of the event loop, the codec and the socket. It is a yardstick, not a client: no pool, no
/// TLS, no redirects; a response that takes longer than `timeout` fails the call and closes the
/// connection.
final class BareHTTPConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let channel: any Channel
    // Event-loop confined.
    private var waiting: CheckedContinuation<Int, any Error>?
    private var timer: Scheduled<Void>?
    private var status = 0
    private var received = 0

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func connect(host: String, port: Int) async throws -> BareHTTPConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port).get()
        let connection = BareHTTPConnection(channel: channel)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(connection)
        }.get()
        return connection
    }

    /// Sends one POST and returns the response's status once its body has arrived.
    func post(path: String, host: String, body: ByteBuffer, timeout: TimeAmount) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            channel.eventLoop.execute { [self] in
                guard waiting == nil, channel.isActive else {
                    continuation.resume(throwing: ChannelError.ioOnClosedChannel)
                    return
                }
                waiting = continuation
                status = 0
                received = 0
                timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in
                    finish(.failure(ChannelError.connectTimeout(timeout)))
                    channel.close(promise: nil)
                }
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                head.headers.add(name: "Host", value: host)
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.readableBytes))
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
    }

    func close() async {
        try? await channel.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(let part): received += part.readableBytes
        case .end: finish(.success(status))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Int, any Error>) {
        timer?.cancel()
        timer = nil
        guard let waiting else { return }
        self.waiting = nil
        waiting.resume(with: result)
    }
}
