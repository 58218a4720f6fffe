// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Hummingbird
import Logging

/// `OneBotLoad upstream`: serve the instant fake LLM API on 127.0.0.1 until SIGINT/SIGTERM.
struct UpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstream",
        abstract: "Serve an instant OpenAI-compatible chat API on 127.0.0.1.",
        discussion: "Prints 'upstream listening on <port>' once bound; --port 0 picks a free port."
    )

    @Option(help: "TCP port on 127.0.0.1 (0 picks a free one).")
    var port = 8000

    func run() async throws {
        var logger = Logger(label: "OneBotLoad.upstream")
        logger.logLevel = .warning
        let app = Application(
            router: Upstream.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "OneBotLoad"),
            onServerRunning: { channel in
                Console.out("upstream listening on \(channel.localAddress?.port ?? -1)")
            },
            logger: logger
        )
        try await app.runService()
    }
}
