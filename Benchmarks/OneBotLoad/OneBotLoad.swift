// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `OneBotLoad`: a load generator for Hub.
///
/// It plays both ends the hub talks to: many OneBot implementations connected over reverse
/// WebSocket (`run`), web chat clients (`web-idle`, `web-turns`), an open-loop HTTP client for
/// the OpenAI-compatible gateway (`http-load`), and an instant OpenAI-compatible upstream
/// (`upstream`), so a benchmark measures the hub and nothing else. See `Benchmarks/README.md`.
@main
struct OneBotLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "OneBotLoad",
        abstract: "OneBot 11, web chat and HTTP load generator and fake LLM upstream for benchmarking Hub.",
        subcommands: [
            RunCommand.self, WebIdleCommand.self, WebTurnsCommand.self, HTTPLoadCommand.self, UpstreamCommand.self,
            SummaryCommand.self, FreePortCommand.self, ClientFloorCommand.self,
        ]
    )
}
