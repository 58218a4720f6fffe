// SPDX-License-Identifier: Apache-2.0

/// What a run's connections speak; it names the figures in the report.
enum LoadKind: String, Sendable {
    /// OneBot implementations on reverse WebSocket (`run`).
    case onebot
    /// Web chat clients sending messages and reading streamed answers (`web-turns`).
    case webTurns = "web-turns"
    /// Keep-alive HTTP connections posting chat completions (`http-load`).
    case http
}

/// Settings of one `run`, `web-turns` or `http-load`, validated by its command.
struct LoadConfiguration: Sendable {
    /// The URL to load, e.g. the hub's reverse WebSocket `ws://127.0.0.1:8080/onebot/v11/ws`.
    var url: String
    /// Access token sent as `Authorization: Bearer <token>`; no header when `nil`.
    var token: String?
    /// Number of connections (OneBot implementations, web clients, HTTP connections).
    var bots: Int
    /// Number of simulated users, spread round-robin over the connections.
    var users: Int
    /// Events in the measured phase.
    var events: Int
    /// Open loop: total events per second; `nil` means closed loop.
    var rate: Double?
    /// Events in the unmeasured warm-up phase that precedes the measured one.
    var warmup: Int
    /// Per-event reply timeout, ns.
    var timeout: UInt64
    /// Heartbeat period, ns; 0 disables heartbeats.
    var heartbeatInterval: UInt64
    /// How long a connection may take to open, ns (they all open at once).
    var connectTimeout: UInt64
    /// The hub's process id, for RSS and CPU figures.
    var hubPID: Int32?
    /// `X-Self-ID` of bot 0; bot k uses `selfIDBase + k`.
    var selfIDBase: Int64
    /// QQ number of user 0; user g uses `userIDBase + g`.
    var userIDBase: Int64
    /// Free-form name of the scenario, copied into the report.
    var label: String?
    /// What the connections speak.
    var kind = LoadKind.onebot

    /// Whether events follow a fixed schedule (open loop) rather than replies (closed loop).
    var isOpenLoop: Bool { rate != nil }
}
