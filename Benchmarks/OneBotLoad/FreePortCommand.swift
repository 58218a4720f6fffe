// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import NIOCore
import NIOPosix

/// `OneBotLoad free-port`: print a TCP port on 127.0.0.1 that was free a moment ago.
///
/// `run.sh` uses it to choose the hub's port without depending on Python or `ss`.
struct FreePortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "free-port",
        abstract: "Print a currently free TCP port on 127.0.0.1."
    )

    func run() async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        Console.out("\(port)")
    }
}
