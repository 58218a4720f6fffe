// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation

/// `OneBotLoad summary`: turn the JSON lines of several `run --json` calls into a Markdown table.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a Markdown table from files of `run --json` output (non-JSON lines are skipped)."
    )

    @Argument(help: "Files holding run output.")
    var files: [String]

    /// Column titles and how to render each from a run's JSON object.
    private static let columns: [(String, @Sendable ([String: Any]) -> String)] = [
        ("scenario", { text($0["label"]) }),
        ("mode", { row in
            guard text(row["mode"]) == "open" else { return "closed" }
            return "open @\(number(row["rate"], 0))/s"
        }),
        ("bots", { text($0["bots"]) }),
        ("users", { text($0["users"]) }),
        ("replies", { "\(text($0["replies"]))/\(text($0["events_sent"]))" }),
        ("timeouts+errors", { row in
            let timeouts = (row["timeouts"] as? NSNumber)?.intValue ?? 0
            let errors = (row["errors"] as? NSNumber)?.intValue ?? 0
            return "\(timeouts + errors)"
        }),
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
        Console.out("| " + Self.columns.map(\.0).joined(separator: " | ") + " |")
        Console.out("|" + Self.columns.map { _ in "---|" }.joined())
        for row in rows {
            Console.out("| " + Self.columns.map { $0.1(row) }.joined(separator: " | ") + " |")
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
