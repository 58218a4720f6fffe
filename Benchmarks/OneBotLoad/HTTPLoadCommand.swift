// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad http-load`: an open-loop HTTP/1.1 load generator for chat completions.
struct HTTPLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-load",
        abstract: "POST chat completions at a fixed rate over keep-alive connections and measure the latency.",
        discussion: """
            Open loop: request i is due at start + i/rate and goes out on connection i mod \
            --connections (one request on the wire per connection; requests that fall due while \
            one is out wait in line). Latency runs from the scheduled time to the end of the \
            response, so a server that falls behind shows it. A 2xx response counts as answered; \
            other statuses are counted by code. --warmup seconds at the same rate come first and \
            are not measured.
            """
    )

    @Option(help: "The URL to POST to.")
    var url = "http://127.0.0.1:8080/v1/chat/completions"

    @Option(help: "Requests per second in total.")
    var rate: Double

    @Option(help: "Seconds of measured load.")
    var duration = 10.0

    @Option(help: "Seconds of unmeasured load at the same rate first.")
    var warmup = 2.0

    @Option(help: "Keep-alive connections.")
    var connections = 64

    @Option(help: "Per-request timeout in seconds; a timed-out request closes its connection.")
    var timeout = 10.0

    @Option(help: "Seconds a connection may take to open.")
    var connectTimeout = 10.0

    @Option(help: "Bearer token, sent as 'Authorization: Bearer <token>'.")
    var token: String?

    @Option(help: "The request body.")
    var body = #"{"model":"bench-model","messages":[{"role":"user","content":"ping"}]}"#

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard rate > 0, duration > 0, warmup >= 0 else {
            throw ValidationError("--rate and --duration must be positive, --warmup not negative")
        }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        _ = try Endpoint(url: url, scheme: "http")
    }

    func run() async throws {
        let configuration = LoadConfiguration(
            url: url, token: token, bots: connections, users: connections,
            events: max(1, Int((rate * duration).rounded())), rate: rate, warmup: Int((rate * warmup).rounded()),
            timeout: Monotonic.nanoseconds(seconds: timeout), heartbeatInterval: 0,
            connectTimeout: Monotonic.nanoseconds(seconds: connectTimeout),
            hubPID: report.hubPID, selfIDBase: 0, userIDBase: 0, label: report.label, kind: .http
        )
        FileLimit.raiseToHard()
        let request = HTTPLoadRequest(path: try Endpoint(url: url, scheme: "http").path, body: body)
        try report.emit(try await LoadRun(configuration: configuration) { index, eventLoop in
            HTTPLoadConnection(index: index, request: request, timeout: configuration.timeout, eventLoop: eventLoop)
        }.execute())
    }
}
