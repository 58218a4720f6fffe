// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad web-turns`: chat clients on the hub's web chat WebSocket send messages and time
/// the streamed answers.
struct WebTurnsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-turns",
        abstract: "Send chat messages over the web chat WebSocket and time the streamed answers.",
        discussion: """
            Opens --clients connections to <url>/<client id> (ids <client-prefix>0, 1, …), waits for \
            each one's history frame, then sends {"type":"message","id","text"} frames. A turn is \
            timed from the send to its first delta frame and to its done frame; an error frame \
            counts as refused. Closed loop by default (one turn in flight per client); with --rate, \
            turns follow a fixed schedule and latency counts from the scheduled time.
            """
    )

    @OptionGroup var web: WebClientOptions

    @Option(help: "Number of chat clients (connections).")
    var clients = 64

    @Option(help: "Turns in the measured phase.")
    var turns = 20_000

    @Option(help: "Open loop: total turns per second on a fixed schedule (default: closed loop).")
    var rate: Double?

    @Option(help: "Turns in an unmeasured warm-up phase before the measured one.")
    var warmup = 0

    @Option(help: "Per-turn timeout in seconds.")
    var timeout = 10.0

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard clients >= 1 else { throw ValidationError("--clients must be at least 1") }
        guard turns >= 1, warmup >= 0 else { throw ValidationError("--turns must be positive, --warmup not negative") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        try web.validate(clients: clients, command: "turns")
    }

    func run() async throws {
        let configuration = LoadConfiguration(
            url: web.url, token: web.token, bots: clients, users: clients, events: turns, rate: rate, warmup: warmup,
            timeout: Monotonic.nanoseconds(seconds: timeout), heartbeatInterval: 0,
            connectTimeout: Monotonic.nanoseconds(seconds: web.connectTimeout),
            hubPID: report.hubPID, selfIDBase: 0, userIDBase: 0, label: report.label, kind: .webTurns
        )
        FileLimit.raiseToHard()
        let prefix = web.prefix(command: "turns")
        try report.emit(try await LoadRun(configuration: configuration) { index, eventLoop in
            WebChatDialect.client(index: index, prefix: prefix, timeout: configuration.timeout, eventLoop: eventLoop)
        }.execute())
    }
}
