// SPDX-License-Identifier: Apache-2.0
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One connection to Redis, authenticated and on the right database, carrying pipelined commands.
public final class RedisConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let commandTimeout: TimeAmount
    /// How busy the connection is (read by the pool to choose a connection).
    let load: RedisConnectionLoad

    private init(channel: any Channel, handler: NIOLoopBound<RedisChannelHandler>, load: RedisConnectionLoad, commandTimeout: TimeAmount) {
        self.channel = channel
        self.handler = handler
        self.load = load
        self.commandTimeout = commandTimeout
    }

    /// Connects, then sends `AUTH` and `SELECT` when the configuration asks for them and a `PING`,
    /// all within the connect timeout.
    public static func connect(
        _ configuration: RedisConfiguration, on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws -> RedisConnection {
        let load = RedisConnectionLoad(stalledAfter: configuration.stalledAfter)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.init(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(load: load))
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisError.connectFailed("\(configuration.endpoint): \(error)")
        }
        let handler: NIOLoopBound<RedisChannelHandler>
        do {
            handler = try await channel.pipeline.handler(type: RedisChannelHandler.self).map { NIOLoopBound($0, eventLoop: channel.eventLoop) }.get()
        } catch {
            try? await channel.close()
            throw RedisError.connectFailed("\(configuration.endpoint): the connection closed at once")
        }
        let connection = RedisConnection(channel: channel, handler: handler, load: load, commandTimeout: .init(configuration.commandTimeout))
        do {
            try await connection.handshake(configuration)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration) async throws {
        var commands = [RedisCommand]()
        if let password = configuration.password {
            commands.append(
                configuration.username.map { RedisCommand("AUTH", RedisArgument($0), RedisArgument(password)) }
                    ?? RedisCommand("AUTH", RedisArgument(password)))
        }
        if configuration.database != 0 { commands.append(RedisCommand("SELECT", RedisArgument(configuration.database))) }
        commands.append(RedisCommand("PING"))
        let replies: [RESPValue]
        do {
            replies = try await send(commands, timeout: .init(configuration.connectTimeout))
        } catch RedisError.timeout {
            throw RedisError.connectFailed("\(configuration.endpoint) accepted the connection but did not answer in time")
        }
        var index = 0
        if configuration.password != nil {
            if case .error(let message) = replies[index] { throw RedisError.authenticationFailed(message) }
            index += 1
        }
        if configuration.database != 0 {
            if case .error(let message) = replies[index] {
                throw message.hasPrefix("NOAUTH")
                    ? RedisError.authenticationFailed("\(message) (the URL has no password)")
                    : RedisError.invalidDatabase(configuration.database, message)
            }
            index += 1
        }
        if case .error(let message) = replies[index] {
            throw message.hasPrefix("NOAUTH")
                ? RedisError.authenticationFailed("\(message) (the URL has no password)") : RedisError.server(message)
        }
    }

    /// Sends commands in one write and waits for all their replies (error replies included, as values).
    ///
    /// The commands are encoded here, on the caller's thread; the event loop only queues the bytes.
    public func send(_ commands: [RedisCommand], timeout: TimeAmount? = nil) async throws -> [RESPValue] {
        guard let first = commands.first else { return [] }
        // A closed channel's event loop may be gone; its handler has failed everything already.
        guard channel.isActive else { throw RedisError.connectionClosed }
        var size = 0
        for index in commands.indices { size += commands[index].encodedSize }
        var encoded = ByteBufferAllocator().buffer(capacity: size)
        for index in commands.indices { commands[index].encode(into: &encoded) }
        let timeout = timeout ?? commandTimeout
        let handler = self.handler
        load.inFlight.add(1, ordering: .relaxed)
        defer { load.inFlight.subtract(1, ordering: .relaxed) }
        return try await withUnsafeThrowingContinuation { continuation in
            let request = RedisRequest(encoded: encoded, count: commands.count, name: first.name, continuation: continuation, timeout: timeout)
            if handler.eventLoop.inEventLoop {
                handler.value.submit(request)
            } else {
                handler.eventLoop.execute { handler.value.submit(request) }
            }
        }
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Completes when the connection has closed.
    func closed() async {
        try? await channel.closeFuture.get()
    }

    public func close() async {
        try? await channel.close()
    }
}
