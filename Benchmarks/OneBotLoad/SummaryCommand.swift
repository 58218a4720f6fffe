// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation

/// `OneBotLoad summary`: turn the JSON lines of several `run`, `web-idle`, `web-turns` or
/// `http-load --json` calls into Markdown tables, one per kind of run.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print Markdown tables from files of `--json` output (non-JSON lines are skipped).",
        discussion: "OneBot runs come first, untitled; web-idle, web-turns and http-load runs get a titled table each."
    )

    @Argument(help: "Files holding run output.")
    var files: [String]

    /// A column title and how to render it from a run's JSON object.
    private typealias Column = (String, @Sendable ([String: Any]) -> String)

    /// The tables in print order: the JSON `kind` (none for OneBot), a title and the columns.
    private static let tables: [(kind: String?, title: String?, columns: [Column])] = [
        (nil, nil, oneBotColumns),
        ("web-idle", "Idle web chat clients (`web-idle`)", idleColumns),
        ("web-turns", "Web chat turns (`web-turns`)", turnColumns),
        ("http", "HTTP load (`http-load`)", httpColumns),
    ]

    /// OneBot runs (`run`).
    private static let oneBotColumns: [Column] = [
        ("scenario", { text($0["label"]) }),
        ("mode", mode),
        ("bots", { text($0["bots"]) }),
        ("users", { text($0["users"]) }),
        ("replies", { "\(text($0["replies"]))/\(text($0["events_sent"]))" }),
        ("timeouts+errors", failures),  // a OneBot run has no refusals
        ("replies/s", { number($0["replies_per_s"], 0) }),
        ("p50 ms", { number($0["p50_ms"], 2) }),
        ("p90 ms", { number($0["p90_ms"], 2) }),
        ("p99 ms", { number($0["p99_ms"], 2) }),
        ("max ms", { number($0["max_ms"], 2) }),
        ("hub RSS idle→end MiB", { row in
            "\(mebibytes(row["rss_idle_kib"]))→\(mebibytes(row["rss_end_kib"]))"
        }),
        ("hub CPU µs/reply", { number($0["hub_cpu_us_per_reply"], 0) }),
    ]

    private static let idleColumns: [Column] = [
        ("scenario", { text($0["label"]) }),
        ("clients", { "\(text($0["connected"]))/\(text($0["clients"]))" }),
        ("open after hold", { text($0["open_after_hold"]) }),
        ("connect s", { number($0["connect_s"], 2) }),
        ("clients/s", { number($0["connects_per_s"], 0) }),
        ("hub RSS idle→connected→held MiB", { row in
            "\(mebibytes(row["rss_idle_kib"]))→\(mebibytes(row["rss_connected_kib"]))→\(mebibytes(row["rss_held_kib"]))"
        }),
        ("peak MiB", { mebibytes($0["rss_peak_kib"]) }),
        ("KiB/client", { number($0["per_client_kib"], 1) }),
        ("after close MiB", { mebibytes($0["rss_closed_kib"]) }),
        ("hub CPU connect/hold s", { "\(number($0["hub_cpu_connect_s"], 2))/\(number($0["hub_cpu_hold_s"], 2))" }),
    ]

    private static let turnColumns: [Column] = [
        ("scenario", { text($0["label"]) }),
        ("mode", mode),
        ("clients", { text($0["bots"]) }),
        ("done", { "\(text($0["replies"]))/\(text($0["events_sent"]))" }),
        ("timeouts+errors+refused", failures),
        ("turns/s", { number($0["replies_per_s"], 0) }),
        ("first delta p50/p99 ms", { "\(number($0["first_p50_ms"], 2))/\(number($0["first_p99_ms"], 2))" }),
        ("done p50 ms", { number($0["p50_ms"], 2) }),
        ("done p90 ms", { number($0["p90_ms"], 2) }),
        ("done p99 ms", { number($0["p99_ms"], 2) }),
        ("done max ms", { number($0["max_ms"], 2) }),
        ("hub RSS idle→end MiB", { "\(mebibytes($0["rss_idle_kib"]))→\(mebibytes($0["rss_end_kib"]))" }),
        ("hub CPU µs/turn", { number($0["hub_cpu_us_per_reply"], 0) }),
    ]

    private static let httpColumns: [Column] = [
        ("scenario", { text($0["label"]) }),
        ("mode", mode),
        ("connections", { text($0["bots"]) }),
        ("2xx", { "\(text($0["replies"]))/\(text($0["events_sent"]))" }),
        ("timeouts+errors+non-2xx", failures),
        ("answered/s", { number($0["answered_per_s"], 0) }),
        ("p50 ms", { number($0["p50_ms"], 3) }),
        ("p90 ms", { number($0["p90_ms"], 3) }),
        ("p99 ms", { number($0["p99_ms"], 3) }),
        ("max ms", { number($0["max_ms"], 2) }),
        ("server CPU µs/req", { number($0["hub_cpu_us_per_reply"], 0) }),
        ("tool CPU µs/req", { number($0["tool_cpu_us_per_reply"], 0) }),
    ]

    private static func mode(_ row: [String: Any]) -> String {
        guard text(row["mode"]) == "open" else { return "closed" }
        return "open @\(number(row["rate"], 0))/s"
    }

    /// Timeouts, errors and refusals (where the run has them) together.
    private static func failures(_ row: [String: Any]) -> String {
        let count = ["timeouts", "errors", "refused"].reduce(0) { $0 + ((row[$1] as? NSNumber)?.intValue ?? 0) }
        return "\(count)"
    }

    func run() throws {
        var rows: [[String: Any]] = []
        for file in files {
            let contents = try String(contentsOfFile: file, encoding: .utf8)
            for line in contents.split(separator: "\n") where line.hasPrefix("{") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                    rows.append(object)
                }
            }
        }
        guard !rows.isEmpty else { throw ValidationError("no run results found") }
        var first = true
        for table in Self.tables {
            let members = rows.filter { ($0["kind"] as? String) == table.kind }
            guard !members.isEmpty else { continue }
            if !first { Console.out("") }
            first = false
            if let title = table.title { Console.out(title + "\n") }
            Console.out("| " + table.columns.map(\.0).joined(separator: " | ") + " |")
            Console.out("|" + table.columns.map { _ in "---|" }.joined())
            for row in members {
                Console.out("| " + table.columns.map { $0.1(row) }.joined(separator: " | ") + " |")
            }
        }
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: "-"
        }
    }

    private static func number(_ value: Any?, _ decimals: Int) -> String {
        guard let number = value as? NSNumber else { return "-" }
        return RunReport.format(number.doubleValue, decimals)
    }

    private static func mebibytes(_ value: Any?) -> String {
        guard let number = value as? NSNumber else { return "-" }
        return RunReport.format(number.doubleValue / 1024, 1)
    }
}
