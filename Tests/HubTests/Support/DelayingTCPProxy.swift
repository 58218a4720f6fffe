// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 (a free port) to another loopback port that passes bytes to the target
/// at once and holds every chunk coming back for `delay` (in order), as a far-away server would.
enum DelayingTCPProxy {
    /// Runs the proxy for the duration of `body`, passing its port.
    static func run<T: Sendable>(
        targetPort: Int, delay: Duration, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let channels = OpenChannels()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        channels.add(server.channel)
        let port = server.channel.localAddress?.port ?? 0
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withDiscardingTaskGroup { connections in
                    try? await server.executeThenClose { inbound in
                        for try await client in inbound {
                            channels.add(client.channel)
                            connections.addTask {
                                try? await relay(client, targetPort: targetPort, delay: delay, channels: channels)
                            }
                        }
                    }
                }
            }
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await body(port))
            } catch {
                outcome = .failure(error)
            }
            await channels.closeAll()
            group.cancelAll()
            try? await group.waitForAll()
            return try outcome.get()
        }
    }

    private static func relay(
        _ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, targetPort: Int, delay: Duration, channels: OpenChannels
    ) async throws {
        let target = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: targetPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        channels.add(target.channel)
        try await client.executeThenClose { clientIn, clientOut in
            try await target.executeThenClose { targetIn, targetOut in
                try await withThrowingTaskGroup(of: Void.self) { directions in
                    directions.addTask {
                        for try await chunk in clientIn { try await targetOut.write(chunk) }
                    }
                    directions.addTask {
                        // Each chunk from the target goes on `delay` after it arrived, in order.
                        let (held, holder) = AsyncStream.makeStream(of: (ContinuousClock.Instant, ByteBuffer).self)
                        try await withThrowingTaskGroup(of: Void.self) { sides in
                            sides.addTask {
                                defer { holder.finish() }
                                for try await chunk in targetIn { holder.yield((.now + delay, chunk)) }
                            }
                            sides.addTask {
                                for await (due, chunk) in held {
                                    try await Task.sleep(until: due, clock: .continuous)
                                    try await clientOut.write(chunk)
                                }
                            }
                            try await sides.waitForAll()
                        }
                    }
                    // Either side ending ends the pair.
                    try await directions.next()
                    directions.cancelAll()
                }
            }
        }
    }
}

/// Every channel the proxy opened, to close them all when it stops.
private final class OpenChannels: Sendable {
    private let channels = Mutex([any Channel]())

    func add(_ channel: any Channel) {
        channels.withLock { $0.append(channel) }
    }

    func closeAll() async {
        for channel in channels.withLock({ $0 }) { try? await channel.close().get() }
    }
}
