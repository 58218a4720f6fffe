// SPDX-License-Identifier: Apache-2.0

/// The figures of a `web-idle` run.
struct IdleReport: LoadReport {
    let run: IdleRun
    var connected = 0
    /// Why clients could not connect, by reason.
    var connectFailures: [String: Int] = [:]
    /// From the first handshake to the last client greeted (or failed), s.
    var connectSeconds = 0.0
    /// Connected clients still open at the end of the hold.
    var openAfterHold = 0
    /// Why connected clients ended before the hold was over, by reason.
    var dropFailures: [String: Int] = [:]
    var closeSeconds = 0.0
    /// Hub RSS in KiB: before connecting, once all connected, after the hold, peak, and a while
    /// after closing.
    var rssIdleKiB: UInt64?
    var rssConnectedKiB: UInt64?
    var rssHeldKiB: UInt64?
    var rssPeakKiB: UInt64?
    var rssClosedKiB: UInt64?
    /// Hub CPU while connecting and while holding, s.
    var hubCPUConnectSeconds: Double?
    var hubCPUHoldSeconds: Double?
    /// This tool's CPU time (connect and hold) and RSS.
    var toolCPUSeconds: Double?
    var toolRSSKiB: UInt64?

    init(run: IdleRun) {
        self.run = run
    }

    var failed: Int { run.clients - connected }

    /// Clients greeted per second.
    var connectsPerSecond: Double { connectSeconds > 0 ? Double(connected) / connectSeconds : 0 }

    /// Hub memory per held client: (RSS after the hold − RSS before) / connected, KiB.
    var perClientKiB: Double? {
        guard let rssHeldKiB, let rssIdleKiB, connected > 0 else { return nil }
        return (Double(rssHeldKiB) - Double(rssIdleKiB)) / Double(connected)
    }

    /// Every client connected and stayed open.
    var succeeded: Bool { connected == run.clients && openAfterHold == connected }

    var text: String {
        let r = run
        var lines: [String] = []
        lines.append("OneBotLoad \(r.label.map { "[\($0)] " } ?? "")web-idle: \(r.clients) clients, \(r.batch) handshakes at a time,"
            + " held \(RunReport.format(Double(r.hold) / 1e9, 1)) s")
        lines.append(RunReport.row("connected", "\(connected)  (failed \(failed))"))
        lines.append(RunReport.row("connect time", "\(RunReport.format(connectSeconds, 3)) s  (\(RunReport.format(connectsPerSecond, 1)) clients/s)"))
        lines.append(RunReport.row("open after hold", "\(openAfterHold)"))
        if r.hubPID != nil {
            lines.append(RunReport.row("hub RSS MiB", "idle \(RunReport.mebibytes(rssIdleKiB))  connected \(RunReport.mebibytes(rssConnectedKiB))"
                + "  held \(RunReport.mebibytes(rssHeldKiB))  peak \(RunReport.mebibytes(rssPeakKiB))  closed \(RunReport.mebibytes(rssClosedKiB))"))
            lines.append(RunReport.row("per client", "\(perClientKiB.map { RunReport.format($0, 1) } ?? "-") KiB  (held − idle, over connected clients)"))
            lines.append(RunReport.row("hub CPU", "connect \(Self.seconds(hubCPUConnectSeconds)) s  hold \(Self.seconds(hubCPUHoldSeconds)) s"))
        }
        lines.append(RunReport.row("tool CPU", "\(Self.seconds(toolCPUSeconds)) s  (RSS \(RunReport.mebibytes(toolRSSKiB)) MiB)"))
        lines.append(RunReport.row("close time", "\(RunReport.format(closeSeconds, 3)) s"))
        for (reason, count) in connectFailures.sorted(by: { $0.value > $1.value }) {
            lines.append(RunReport.row("FAILED", "\(count) × connect: \(reason)"))
        }
        for (reason, count) in dropFailures.sorted(by: { $0.value > $1.value }) {
            lines.append(RunReport.row("FAILED", "\(count) × dropped: \(reason)"))
        }
        return lines.joined(separator: "\n")
    }

    var jsonLine: String {
        let r = run
        func kib(_ value: UInt64?) -> String { value.map { "\($0)" } ?? "null" }
        func reasons(_ counts: [String: Int]) -> String {
            "{" + counts.sorted { $0.key < $1.key }.map { "\(RunReport.jsonString($0.key)):\($0.value)" }.joined(separator: ",") + "}"
        }
        return RunReport.jsonObject([
            ("label", r.label.map(RunReport.jsonString) ?? "null"),
            ("kind", "\"web-idle\""),
            ("clients", "\(r.clients)"),
            ("batch", "\(r.batch)"),
            ("hold_s", RunReport.format(Double(r.hold) / 1e9, 1)),
            ("connected", "\(connected)"),
            ("failed", "\(failed)"),
            ("connect_s", RunReport.format(connectSeconds, 3)),
            ("connects_per_s", RunReport.format(connectsPerSecond, 1)),
            ("open_after_hold", "\(openAfterHold)"),
            ("rss_idle_kib", kib(rssIdleKiB)),
            ("rss_connected_kib", kib(rssConnectedKiB)),
            ("rss_held_kib", kib(rssHeldKiB)),
            ("rss_peak_kib", kib(rssPeakKiB)),
            ("rss_closed_kib", kib(rssClosedKiB)),
            ("per_client_kib", perClientKiB.map { RunReport.format($0, 2) } ?? "null"),
            ("hub_cpu_connect_s", hubCPUConnectSeconds.map { RunReport.format($0, 3) } ?? "null"),
            ("hub_cpu_hold_s", hubCPUHoldSeconds.map { RunReport.format($0, 3) } ?? "null"),
            ("tool_cpu_s", toolCPUSeconds.map { RunReport.format($0, 3) } ?? "null"),
            ("tool_rss_kib", kib(toolRSSKiB)),
            ("close_s", RunReport.format(closeSeconds, 3)),
            ("connect_failures", reasons(connectFailures)),
            ("drop_failures", reasons(dropFailures)),
        ])
    }

    private static func seconds(_ value: Double?) -> String {
        value.map { RunReport.format($0, 2) } ?? "-"
    }
}
