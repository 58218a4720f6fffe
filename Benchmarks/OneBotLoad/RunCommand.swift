// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad run`: simulate OneBot implementations and users against a running hub.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Send private message events over reverse WebSocket and measure the hub's replies.",
        discussion: """
            Opens --bots reverse-WebSocket connections (Universal role), spreads --users users over \
            them and sends private message events. Each hub action is answered with an ok response; \
            a send_private_msg/send_msg action for a user counts as the reply to that user's oldest \
            event in flight. Closed loop by default (one event in flight per user); with --rate, \
            events follow a fixed schedule and latency counts from the scheduled time.
            """
    )

    @Option(help: "The hub's reverse-WebSocket URL.")
    var url = "ws://127.0.0.1:8080/onebot/v11/ws"

    @Option(help: "Access token, sent as 'Authorization: Bearer <token>'.")
    var token: String?

    @Option(help: "Number of simulated OneBot implementations (connections).")
    var bots = 1

    @Option(help: "Number of simulated users, spread round-robin over the bots.")
    var users = 64

    @Option(help: "Events in the measured phase.")
    var events = 20_000

    @Option(help: "Open loop: total events per second on a fixed schedule (default: closed loop).")
    var rate: Double?

    @Option(help: "Events in an unmeasured warm-up phase before the measured one.")
    var warmup = 0

    @Option(help: "Per-event reply timeout in seconds.")
    var timeout = 10.0

    @Option(help: "Heartbeat meta event period in seconds (0 disables).")
    var heartbeat = 5.0

    @Option(help: "Seconds to wait for all connections to open.")
    var connectTimeout = 10.0

    @Option(name: .customLong("self-id"), help: "X-Self-ID of the first bot; the others count up from it.")
    var selfID: Int64 = 3_847_290_000

    @Option(name: .customLong("user-id"), help: "QQ number of the first user; the others count up from it.")
    var userID: Int64 = 1_049_380_000

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard bots >= 1 else { throw ValidationError("--bots must be at least 1") }
        guard users >= bots else { throw ValidationError("--users must be at least --bots") }
        guard events >= 1, warmup >= 0 else { throw ValidationError("--events must be positive, --warmup not negative") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let configuration = LoadConfiguration(
            url: url, token: token, bots: bots, users: users, events: events, rate: rate, warmup: warmup,
            timeout: Monotonic.nanoseconds(seconds: timeout),
            heartbeatInterval: Monotonic.nanoseconds(seconds: heartbeat),
            connectTimeout: Monotonic.nanoseconds(seconds: connectTimeout),
            hubPID: report.hubPID, selfIDBase: selfID, userIDBase: userID, label: report.label
        )
        try report.emit(try await LoadRun(configuration: configuration) { index, eventLoop in
            SimulatedClient(
                index: index, dialect: OneBotDialect(index: index, configuration: configuration),
                timeout: configuration.timeout, heartbeatInterval: configuration.heartbeatInterval, eventLoop: eventLoop
            )
        }.execute())
    }
}
