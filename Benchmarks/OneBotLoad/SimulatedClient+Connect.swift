// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opening and closing a ``SimulatedClient``. Each method hops onto the client's event loop, so
/// it can be called from any task.
extension SimulatedClient {
    /// Opens the WebSocket with the dialect's path and headers (OneBot: `X-Self-ID`,
    /// `X-Client-Role: Universal` and, with a token, `Authorization: Bearer`, §1.4). Returns once
    /// the upgrade succeeded and, for a dialect that awaits one, the server's greeting arrived;
    /// throws if that takes longer than `timeout`.
    func connect(to endpoint: Endpoint, token: String?, timeout: TimeAmount) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "User-Agent", value: "OneBotLoad/1.0")
        headers.add(contentsOf: dialect.handshakeHeaders(token: token))
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: dialect.path(base: endpoint.path), headers: headers)

        let ready = try await eventLoop.submit { () -> EventLoopFuture<Void> in
            let promise = self.eventLoop.makePromise(of: Void.self)
            self.readyPromise = promise
            let deadline = self.eventLoop.scheduleTask(in: timeout) { self.abandonConnect(LoadRunError.connectTimedOut) }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
            return promise.futureResult
        }.get()

        do {
            let upgraded = try await ClientBootstrap(group: eventLoop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(timeout)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        self.channel = channel
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
                        // A server may send its first frame in the same read as the 101 (web chat's
                        // history does); the default strategy would drop those bytes.
                        var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                        pipeline.leftOverBytesStrategy = .forwardBytes
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                    }
                }
            guard try await upgraded.get() else { throw LoadRunError.upgradeRejected }
            eventLoop.execute { self.start() }
        } catch {
            eventLoop.execute { self.settleReady(.failure(error)) }
        }
        try await ready.get()
    }

    /// Closes the connection normally (close code 1000), forcing it shut after `grace` if the
    /// hub does not answer the close frame. Returns when the connection is closed.
    func close(grace: TimeAmount = .seconds(2)) async {
        let closed = try? await eventLoop.submit { () -> EventLoopFuture<Void>? in
            self.state.closing = true
            self.stopTimers()
            guard let context = self.context else {
                self.channel?.close(promise: nil)
                return nil
            }
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
