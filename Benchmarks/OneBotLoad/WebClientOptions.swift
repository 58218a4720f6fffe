// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// Where and as whom `web-idle` and `web-turns` connect.
struct WebClientOptions: ParsableArguments {
    @Option(help: "The hub's chat WebSocket URL; each client appends /<client id>.")
    var url = "ws://127.0.0.1:8080/ws/chat"

    @Option(help: "Web access token, sent as 'Authorization: Bearer <token>'.")
    var token: String?

    @Option(help: "Seconds a client may take to connect and receive its history.")
    var connectTimeout = 10.0

    @Option(help: "Client ids are <prefix><index>: letters, digits, '-' and '_' (default: bench-<command>-).")
    var clientPrefix: String?

    /// The prefix, or `bench-<command>-` when none was given.
    func prefix(command: String) -> String {
        clientPrefix ?? "bench-\(command)-"
    }

    /// Checks that every client id `command` will use for `clients` clients is valid.
    func validate(clients: Int, command: String) throws {
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
        try WebChatDialect.validate(prefix: prefix(command: command), clients: clients)
    }
}
