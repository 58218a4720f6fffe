// SPDX-License-Identifier: Apache-2.0
import Logging
import NIOCore
import NIOPosix

/// One connection to Redis, authenticated and on the right database, carrying pipelined commands.
public final class RedisConnection: Sendable {
    let channel: any Channel
    private let commandTimeout: TimeAmount

    private init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Connects, then sends `AUTH` and `SELECT` when the configuration asks for them and a `PING`,
    /// all within the connect timeout.
    public static func connect(
        _ configuration: RedisConfiguration, on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.init(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler())
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
        let connection = RedisConnection(channel: channel, commandTimeout: .init(configuration.commandTimeout))
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
    public func send(_ commands: [RedisCommand], timeout: TimeAmount? = nil) async throws -> [RESPValue] {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        // A closed channel never hands the request to the handler, so the write's failure must
        // complete the promise (a second completion, if the handler also failed it, is ignored).
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise, timeout: timeout ?? commandTimeout)).whenFailure { _ in
            promise.fail(RedisError.connectionClosed)
        }
        return try await promise.futureResult.get()
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
