// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad`: a OneBot 11 load generator for Hub.
///
/// It plays both ends the hub talks to: many OneBot implementations connected over reverse
/// WebSocket (`run`) and an instant OpenAI-compatible upstream (`upstream`), so a benchmark
/// measures the hub and nothing else. See `Benchmarks/README.md`.
@main
struct OneBotLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "OneBotLoad",
        abstract: "OneBot 11 load generator and fake LLM upstream for benchmarking Hub.",
        subcommands: [RunCommand.self, UpstreamCommand.self, SummaryCommand.self, FreePortCommand.self]
    )
}
