// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad web-idle`: hold many idle web chat clients open and measure the hub's memory.
struct WebIdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-idle",
        abstract: "Open many idle web chat WebSockets, hold them, and report the hub's RSS per client.",
        discussion: """
            Opens --clients connections to <url>/<client id> (ids <client-prefix>0, 1, …), --batch \
            handshakes at a time; a client counts as connected once its history frame has arrived. \
            All are then held open, sending nothing, for --hold seconds. The hub's RSS is read \
            before, after connecting, after the hold and after closing; per-client memory is \
            (held − before) / connected.
            """
    )

    @OptionGroup var web: WebClientOptions

    @Option(help: "Number of clients to hold open.")
    var clients = 10_000

    @Option(help: "Handshakes in progress at once.")
    var batch = 500

    @Option(help: "Seconds to hold the clients open once all have connected.")
    var hold = 10.0

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard clients >= 1, batch >= 1 else { throw ValidationError("--clients and --batch must be at least 1") }
        guard hold >= 0 else { throw ValidationError("--hold must not be negative") }
        try web.validate(clients: clients, command: "idle")
    }

    func run() async throws {
        let files = FileLimit.raiseToHard()
        if files < UInt64(clients) + 64 {
            Console.error("warning: the open-file limit is \(files); \(clients) clients need about \(clients + 64)")
        }
        let run = IdleRun(
            url: web.url, token: web.token, clients: clients, batch: batch, hold: Monotonic.nanoseconds(seconds: hold),
            connectTimeout: Monotonic.nanoseconds(seconds: web.connectTimeout), clientPrefix: web.prefix(command: "idle"),
            hubPID: report.hubPID, label: report.label
        )
        try report.emit(try await run.execute())
    }
}
