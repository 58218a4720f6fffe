// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The figures of one measured phase, printed as text and optionally as one JSON line.
struct RunReport: Sendable {
    var configuration: LoadConfiguration
    var stats: PhaseStats
    /// Hub RSS before any connection opened, KiB.
    var rssIdleKiB: UInt64?
    /// Hub RSS right after the measured phase, KiB.
    var rssEndKiB: UInt64?
    /// Largest hub RSS sampled during the measured phase, KiB.
    var rssPeakKiB: UInt64?
    /// Hub CPU time (user + system) spent during the measured phase, s.
    var hubCPUSeconds: Double?
    /// This tool's CPU time during the measured phase, s.
    var toolCPUSeconds: Double?
    /// Connections that failed, with reasons.
    var failures: [String]

    /// From the first send (or scheduled send) to the last reply or timeout, s.
    var wallSeconds: Double {
        guard let first = stats.firstStart, stats.lastCompletion > first else { return 0 }
        return Double(stats.lastCompletion - first) / 1e9
    }

    /// Replies per second of wall time.
    var repliesPerSecond: Double {
        wallSeconds > 0 ? Double(stats.replies) / wallSeconds : 0
    }

    /// Replies and refusals per second of wall time: the rate the hub kept up with.
    var answeredPerSecond: Double {
        wallSeconds > 0 ? Double(stats.replies + stats.refused) / wallSeconds : 0
    }

    /// Hub CPU per reply, µs.
    var hubCPUMicrosPerReply: Double? {
        guard let hubCPUSeconds, stats.replies > 0 else { return nil }
        return hubCPUSeconds * 1e6 / Double(stats.replies)
    }

    /// This tool's CPU per reply, µs.
    var toolCPUMicrosPerReply: Double? {
        guard let toolCPUSeconds, stats.replies > 0 else { return nil }
        return toolCPUSeconds * 1e6 / Double(stats.replies)
    }

    /// Whether the run counts as successful (replies arrived, no connection failed).
    var succeeded: Bool { stats.replies > 0 && failures.isEmpty }

    /// A latency percentile of `histogram` in ms.
    static func milliseconds(_ histogram: LatencyHistogram, atPercentile percentile: Double) -> Double {
        Double(histogram.value(atPercentile: percentile)) / 1_000
    }

    /// `p50 … p90 … p99 … max … mean …` in ms.
    static func latencySummary(_ histogram: LatencyHistogram) -> String {
        "p50 \(format(milliseconds(histogram, atPercentile: 50), 2))  p90 \(format(milliseconds(histogram, atPercentile: 90), 2))"
            + "  p99 \(format(milliseconds(histogram, atPercentile: 99), 2))  max \(format(Double(histogram.max) / 1_000, 2))"
            + "  mean \(format(histogram.mean / 1_000, 2))"
    }

    /// `p50_ms` … `mean_ms` (each key after `prefix`) for the JSON line.
    static func latencyFields(_ histogram: LatencyHistogram, prefix: String = "") -> [(String, String)] {
        [50.0, 90, 99].map { ("\(prefix)p\(Int($0))_ms", format(milliseconds(histogram, atPercentile: $0), 3)) } + [
            ("\(prefix)max_ms", format(Double(histogram.max) / 1_000, 3)),
            ("\(prefix)mean_ms", format(histogram.mean / 1_000, 3)),
        ]
    }

    /// One line of the text report: the title padded to a column, then the value.
    static func row(_ title: String, _ value: String) -> String {
        "  " + title.padding(toLength: 16, withPad: " ", startingAt: 0) + value
    }

    /// Human-readable report.
    var text: String {
        let c = configuration
        let words = c.kind.words
        let mode = c.rate.map { "open loop at \(Self.format($0, 0)) \(words.events)/s" } ?? "closed loop"
        let population = c.kind == .onebot ? "\(c.bots) bot(s), \(c.users) users" : "\(c.bots) \(words.connections)"
        var lines: [String] = []
        lines.append("OneBotLoad \(c.label.map { "[\($0)] " } ?? "")\(mode): \(population), \(c.events) \(words.events)"
            + (c.warmup > 0 ? " (+\(c.warmup) warm-up)" : ""))
        lines.append(Self.row("\(words.events) sent", "\(stats.sent)"))
        lines.append(Self.row(words.replies, "\(stats.replies)"))
        lines.append(Self.row("timeouts", "\(stats.timeouts)  (per-\(words.event) timeout \(Self.format(Double(c.timeout) / 1e9, 1)) s)"))
        lines.append(Self.row("errors", "\(stats.errors)"))
        if c.kind != .onebot {
            let reasons = stats.refusals.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }
            lines.append(Self.row("refused", "\(stats.refused)" + (reasons.isEmpty ? "" : "  (" + reasons.joined(separator: ", ") + ")")))
        }
        if let other = words.other {
            lines.append(Self.row("unmatched", "\(stats.unmatched)  (\(words.replies) with no \(words.event) in flight)"))
            lines.append(Self.row(other, "\(stats.otherActions)"))
        }
        lines.append(Self.row("wall time", "\(Self.format(wallSeconds, 3)) s"))
        lines.append(Self.row("throughput", "\(Self.format(repliesPerSecond, 1)) \(words.replies)/s"))
        if c.kind == .webTurns {
            lines.append(Self.row("first delta ms", Self.latencySummary(stats.firstPiece)))
        }
        lines.append(Self.row(words.latency, Self.latencySummary(stats.latency)))
        if c.hubPID != nil {
            lines.append(Self.row("hub RSS MiB", "idle \(Self.mebibytes(rssIdleKiB))  end \(Self.mebibytes(rssEndKiB))  peak \(Self.mebibytes(rssPeakKiB))"))
            let perReply = hubCPUMicrosPerReply.map { " (\(Self.format($0, 1)) µs/\(words.reply))" } ?? ""
            lines.append(Self.row("hub CPU", "\(hubCPUSeconds.map { Self.format($0, 2) } ?? "-") s\(perReply)"))
        }
        let toolPerReply = c.kind == .onebot ? "" : toolCPUMicrosPerReply.map { " (\(Self.format($0, 1)) µs/\(words.reply))" } ?? ""
        lines.append(Self.row("tool CPU", "\(toolCPUSeconds.map { Self.format($0, 2) } ?? "-") s\(toolPerReply)"))
        for failure in failures { lines.append(Self.row("FAILED", failure)) }
        return lines.joined(separator: "\n")
    }

    /// One JSON object on one line, for the scripts and the README table. A OneBot run has no
    /// `kind`; the others add theirs and the refusals (web turns: the first delta's latency too).
    var jsonLine: String {
        let c = configuration
        var fields: [(String, String)] = [
            ("label", c.label.map(Self.jsonString) ?? "null"),
            ("mode", c.rate == nil ? "\"closed\"" : "\"open\""),
            ("rate", c.rate.map { Self.format($0, 1) } ?? "null"),
            ("bots", "\(c.bots)"),
            ("users", "\(c.users)"),
            ("events", "\(c.events)"),
            ("warmup", "\(c.warmup)"),
            ("events_sent", "\(stats.sent)"),
            ("replies", "\(stats.replies)"),
            ("timeouts", "\(stats.timeouts)"),
            ("errors", "\(stats.errors)"),
            ("unmatched", "\(stats.unmatched)"),
            ("wall_s", Self.format(wallSeconds, 3)),
            ("replies_per_s", Self.format(repliesPerSecond, 1)),
        ]
        fields += Self.latencyFields(stats.latency)
        fields.append(("rss_idle_kib", rssIdleKiB.map { "\($0)" } ?? "null"))
        fields.append(("rss_end_kib", rssEndKiB.map { "\($0)" } ?? "null"))
        fields.append(("rss_peak_kib", rssPeakKiB.map { "\($0)" } ?? "null"))
        fields.append(("hub_cpu_s", hubCPUSeconds.map { Self.format($0, 3) } ?? "null"))
        fields.append(("hub_cpu_us_per_reply", hubCPUMicrosPerReply.map { Self.format($0, 1) } ?? "null"))
        fields.append(("tool_cpu_s", toolCPUSeconds.map { Self.format($0, 3) } ?? "null"))
        fields.append(("failures", "[" + failures.map(Self.jsonString).joined(separator: ",") + "]"))
        if c.kind != .onebot {
            fields.append(("kind", Self.jsonString(c.kind.rawValue)))
            fields.append(("refused", "\(stats.refused)"))
            let refusals = stats.refusals.sorted { $0.key < $1.key }.map { "\(Self.jsonString($0.key)):\($0.value)" }
            fields.append(("refusals", "{" + refusals.joined(separator: ",") + "}"))
            fields.append(("answered_per_s", Self.format(answeredPerSecond, 1)))
            fields.append(("tool_cpu_us_per_reply", toolCPUMicrosPerReply.map { Self.format($0, 1) } ?? "null"))
        }
        if c.kind == .webTurns {
            fields += Self.latencyFields(stats.firstPiece, prefix: "first_")
        }
        return Self.jsonObject(fields)
    }

    /// `{"key":value,…}` from keys and raw JSON values.
    static func jsonObject(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Fixed-point formatting; `String(format:)` without a locale always uses a "." separator.
    static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func mebibytes(_ kib: UInt64?) -> String {
        kib.map { format(Double($0) / 1024, 1) } ?? "-"
    }

    /// A JSON string literal for arbitrary text.
    static func jsonString(_ text: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]),
              let literal = String(data: data, encoding: .utf8)
        else { return "\"\"" }
        return literal
    }
}

extension LoadKind {
    /// How the report names a run's parts.
    struct Words {
        /// Connections, after their count (OneBot names bots and users instead).
        var connections: String
        /// One event and several.
        var event: String
        var events: String
        /// One answered event and several.
        var reply: String
        var replies: String
        /// Title of the latency line.
        var latency: String
        /// Title of the count of frames that answer nothing, when the protocol has such frames.
        var other: String?
    }

    var words: Words {
        switch self {
        case .onebot:
            Words(connections: "bot(s)", event: "event", events: "events", reply: "reply", replies: "replies", latency: "latency ms", other: "other actions")
        case .webTurns:
            Words(connections: "clients", event: "turn", events: "turns", reply: "turn", replies: "turns done", latency: "done ms", other: "other frames")
        case .http:
            Words(connections: "connections", event: "request", events: "requests", reply: "response", replies: "2xx responses", latency: "latency ms", other: nil)
        }
    }
}
