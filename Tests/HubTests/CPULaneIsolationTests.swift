// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The `cpu` lane cannot slow chat: with speech held by a remote provider that does not answer
/// (two syntheses running, two waiting: `lanes.cpu` full), further speech is refused at once with
/// 429, `Retry-After` and a JSON error, while QQ chat turns are answered as fast as with the lane
/// idle (``ChatLatency/Comparison``) and the `realtime` lane refuses nothing.
@Suite(.timeLimit(.minutes(2)))
struct CPULaneIsolationTests {
    static let selfID: Int64 = 3_847_291_056

    @Test func aSaturatedCPULaneRefusesSpeechAndDoesNotSlowChat() async throws {
        let upstream = FakeUpstream()
        // Held until the test is done with it, however long a loaded machine takes.
        let speech = FakeSpeechService(.stall, stallLimit: .seconds(90))
        try await upstream.run { llm in
            try await speech.run { base in
                let extra = """
                    tts: { providers: [ { name: remote, kind: openai, base_url: "\(base)", timeout: 90, retry_attempts: 0 } ] }
                    lanes: { cpu: { max_concurrent: 2, queue: 2 } }
                    """
                let configuration = try TestHub.configuration(upstream: llm, databasePath: TestHub.databasePath(), extra: extra)
                try await TestHub.run(configuration) { port, _ in
                    let bot = FakeOneBot(selfID: Self.selfID)
                    try await bot.whileConnected(port: port) {
                        var index = 0
                        try await ChatLatency.warm(bot, from: &index)
                        let idle = try await ChatLatency.measure(bot, from: &index)

                        // Fill the lane: two syntheses at the provider, which does not answer, and two
                        // waiting behind them.
                        let statuses = try await withThrowingTaskGroup(of: UInt.self) { held in
                            for number in 1...4 {
                                held.addTask {
                                    try await ImageHub.call(
                                        port, .POST, "/api/v1/tts/synthesize", body: #"{"text":"held \#(number)"}"#, timeout: .seconds(120)
                                    ).status
                                }
                            }
                            try await eventually("two syntheses at the provider", timeout: .seconds(20)) { speech.requests == 2 }
                            try await ImageHub.until("the cpu lane to be full", timeout: .seconds(20)) {
                                let cpu = try await ImageHub.lanes(port)["cpu"]
                                return cpu?["running"] == 2 && cpu?["queued"] == 2
                            }

                            // Further speech is refused at once, in each API's shape.
                            let refused = try await ImageHub.call(port, .POST, "/api/v1/tts/synthesize", body: #"{"text":"one too many"}"#)
                            #expect(refused.status == 429, "\(refused)")
                            #expect(refused.header("retry-after") == "1", "\(refused.headers)")
                            #expect(refused.errorMessage?.contains("busy") == true, "\(refused)")
                            let openAI = try await ImageHub.call(port, .POST, "/v1/audio/speech", body: #"{"model":"tts-1","input":"one more"}"#)
                            #expect(openAI.status == 429, "\(openAI)")
                            #expect(openAI.header("retry-after") == "1", "\(openAI.headers)")
                            #expect(openAI.json?["error"]?["type"] == "rate_limit_error", "\(openAI)")
                            #expect(openAI.errorMessage?.contains("busy") == true, "\(openAI)")
                            let full = try await ImageHub.lanes(port)
                            #expect(
                                full["cpu"] == ["running": 2, "queued": 2, "max_concurrent": 2, "queue_limit": 2, "refused": 2],
                                "\(full.compactJSON)")

                            // Chat, with the lane full all along.
                            let saturated = try await ChatLatency.measure(bot, from: &index)
                            let during = try await ImageHub.lanes(port)
                            #expect(during["cpu"]?["running"] == 2 && during["cpu"]?["queued"] == 2, "still full: \(during.compactJSON)")
                            #expect(during["cpu"]?["refused"] == 2, "\(during.compactJSON)")
                            #expect(during["realtime"]?["refused"] == 0, "\(during.compactJSON)")
                            #expect(speech.requests == 2, "the waiting syntheses never started, nor did the refused ones")

                            let comparison = ChatLatency.Comparison(idle: idle, saturated: saturated)
                            print("lane isolation (cpu saturated): chat \(comparison)")
                            comparison.expectWithinBounds()

                            // The provider answers at last (500): each held synthesis ends, the lane drains.
                            speech.release()
                            var statuses = [UInt]()
                            for try await status in held { statuses.append(status) }
                            return statuses
                        }
                        #expect(statuses == [502, 502, 502, 502], "the provider's failure, for each held synthesis")
                        #expect(speech.requests == 4)
                        try await ImageHub.until("the cpu lane to drain") {
                            let cpu = try await ImageHub.lanes(port)["cpu"]
                            return cpu?["running"] == 0 && cpu?["queued"] == 0
                        }
                    }
                }
            }
        }
    }
}
