// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// A report a command prints: text, optionally one JSON line, and whether the run succeeded.
protocol LoadReport {
    var text: String { get }
    var jsonLine: String { get }
    var succeeded: Bool { get }
}

extension RunReport: LoadReport {}

/// The options every measuring command shares: whose memory and CPU to watch, the scenario's
/// name and the JSON line.
struct ReportOptions: ParsableArguments {
    @Option(name: .customLong("hub-pid"), help: "The hub's process id, to report its RSS (VmRSS) and CPU time.")
    var hubPID: Int32?

    @Option(help: "Scenario name to show in the report.")
    var label: String?

    @Flag(help: "Also print the figures as one JSON line.")
    var json = false

    /// Prints `report` (and its JSON line with `--json`); exits non-zero if it failed.
    func emit(_ report: some LoadReport) throws {
        Console.out(report.text)
        if json { Console.out(report.jsonLine) }
        guard report.succeeded else { throw ExitCode.failure }
    }
}
