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

    /// Hub CPU per reply, µs.
    var hubCPUMicrosPerReply: Double? {
        guard let hubCPUSeconds, stats.replies > 0 else { return nil }
        return hubCPUSeconds * 1e6 / Double(stats.replies)
    }

    /// Whether the run counts as successful (replies arrived, no connection failed).
    var succeeded: Bool { stats.replies > 0 && failures.isEmpty }

    /// A latency percentile in ms.
    func latencyMilliseconds(_ percentile: Double) -> Double {
        Double(stats.latency.value(atPercentile: percentile)) / 1_000
    }

    /// Human-readable report.
    var text: String {
        let c = configuration
        let mode = c.rate.map { "open loop at \(Self.format($0, 0)) events/s" } ?? "closed loop"
        var lines: [String] = []
        lines.append("OneBotLoad \(c.label.map { "[\($0)] " } ?? "")\(mode): \(c.bots) bot(s), \(c.users) users, \(c.events) events"
            + (c.warmup > 0 ? " (+\(c.warmup) warm-up)" : ""))
        lines.append("  events sent     \(stats.sent)")
        lines.append("  replies         \(stats.replies)")
        lines.append("  timeouts        \(stats.timeouts)  (per-event timeout \(Self.format(Double(c.timeout) / 1e9, 1)) s)")
        lines.append("  errors          \(stats.errors)")
        lines.append("  unmatched       \(stats.unmatched)  (replies with no event in flight)")
        lines.append("  other actions   \(stats.otherActions)")
        lines.append("  wall time       \(Self.format(wallSeconds, 3)) s")
        lines.append("  throughput      \(Self.format(repliesPerSecond, 1)) replies/s")
        lines.append("  latency ms      p50 \(Self.format(latencyMilliseconds(50), 2))  p90 \(Self.format(latencyMilliseconds(90), 2))"
            + "  p99 \(Self.format(latencyMilliseconds(99), 2))  max \(Self.format(Double(stats.latency.max) / 1_000, 2))"
            + "  mean \(Self.format(stats.latency.mean / 1_000, 2))")
        if c.hubPID != nil {
            lines.append("  hub RSS MiB     idle \(Self.mebibytes(rssIdleKiB))  end \(Self.mebibytes(rssEndKiB))  peak \(Self.mebibytes(rssPeakKiB))")
            let perReply = hubCPUMicrosPerReply.map { " (\(Self.format($0, 1)) µs/reply)" } ?? ""
            lines.append("  hub CPU         \(hubCPUSeconds.map { Self.format($0, 2) } ?? "-") s\(perReply)")
        }
        lines.append("  tool CPU        \(toolCPUSeconds.map { Self.format($0, 2) } ?? "-") s")
        for failure in failures { lines.append("  FAILED          \(failure)") }
        return lines.joined(separator: "\n")
    }

    /// One JSON object on one line, for `run.sh` and the README table.
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
            ("p50_ms", Self.format(latencyMilliseconds(50), 3)),
            ("p90_ms", Self.format(latencyMilliseconds(90), 3)),
            ("p99_ms", Self.format(latencyMilliseconds(99), 3)),
            ("max_ms", Self.format(Double(stats.latency.max) / 1_000, 3)),
            ("mean_ms", Self.format(stats.latency.mean / 1_000, 3)),
        ]
        fields.append(("rss_idle_kib", rssIdleKiB.map { "\($0)" } ?? "null"))
        fields.append(("rss_end_kib", rssEndKiB.map { "\($0)" } ?? "null"))
        fields.append(("rss_peak_kib", rssPeakKiB.map { "\($0)" } ?? "null"))
        fields.append(("hub_cpu_s", hubCPUSeconds.map { Self.format($0, 3) } ?? "null"))
        fields.append(("hub_cpu_us_per_reply", hubCPUMicrosPerReply.map { Self.format($0, 1) } ?? "null"))
        fields.append(("tool_cpu_s", toolCPUSeconds.map { Self.format($0, 3) } ?? "null"))
        fields.append(("failures", "[" + failures.map(Self.jsonString).joined(separator: ",") + "]"))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Fixed-point formatting; `String(format:)` without a locale always uses a "." separator.
    static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func mebibytes(_ kib: UInt64?) -> String {
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
