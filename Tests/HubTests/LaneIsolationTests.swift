// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOHTTP1
import Testing

/// The `batch` lane cannot starve chat: with 201 image jobs taken (one drawing, two seconds each,
/// and the queue of 200 full), QQ chat turns against a fast model are answered as fast as with the
/// lane idle, median and tail (``ChatLatency/Comparison``), and the next image job is refused at
/// once with `Retry-After`.
@Suite(.timeLimit(.minutes(2)))
struct LaneIsolationTests {
    static let selfID: Int64 = 3_847_291_056

    @Test func aSaturatedBatchLaneDoesNotSlowChat() async throws {
        let upstream = FakeUpstream()
        let service = FakeImageService(delay: .seconds(2))
        try await upstream.run { llm in
            try await service.run { base in
                let configuration = try ImageHub.configuration(
                    service: base, providers: [("slow", "slow")], batch: "{ max_concurrent: 1, queue: 200 }",
                    extra: "llm: { providers: [ { name: fake, base_url: \"\(llm)\", api_key: k, models: [ { name: model-a } ], timeout: 5 } ] }")
                try await TestHub.run(configuration) { port, _ in
                    let bot = FakeOneBot(selfID: Self.selfID)
                    try await bot.whileConnected(port: port) {
                        // Warm up, then chat with the lane idle.
                        var index = 0
                        try await ChatLatency.warm(bot, from: &index)
                        let idle = try await ChatLatency.measure(bot, from: &index)

                        // Fill the lane: one job drawing (held until the queue is full), 200 waiting.
                        service.hold()
                        _ = try await ImageHub.submit(port, prompt: "job 0")
                        try await service.waitForRequest("job 0")
                        let submitting = ContinuousClock.now
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for worker in 0..<4 {
                                group.addTask {
                                    for job in stride(from: 1 + worker, through: 200, by: 4) {
                                        _ = try await ImageHub.submit(port, prompt: "job \(job)")
                                    }
                                }
                            }
                            try await group.waitForAll()
                        }
                        let submitTime = ContinuousClock.now - submitting
                        let refused = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: ImageHub.body("one too many"))
                        #expect(refused.status == 429, "\(refused)")
                        #expect(refused.header("retry-after").flatMap(Int.init).map { $0 >= 1 } == true, "\(refused.headers)")
                        let full = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"]?["batch"])
                        #expect(full["running"] == 1 && full["queued"] == 200 && full["refused"] == 1, "\(full.compactJSON)")

                        // Now it works through them, two seconds each, while the chat goes on (paced,
                        // so that pictures are drawn, stored and recorded during the measurement).
                        service.release()
                        let saturated = try await ChatLatency.measure(bot, from: &index)
                        #expect(service.answered >= 1, "a picture was drawn while the chat was measured")
                        let during = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"])
                        #expect(during["batch"]?["running"] == 1 && (during["batch"]?["queued"]?.int64Value ?? 0) >= 190, "\(during.compactJSON)")
                        #expect(during["realtime"]?["refused"] == 0)
                        #expect(service.count("one too many") == 0)

                        let comparison = ChatLatency.Comparison(idle: idle, saturated: saturated)
                        print(
                            "lane isolation (batch saturated): chat \(comparison); "
                                + "200 jobs submitted in \(ChatLatency.ms(submitTime)); pictures drawn \(service.answered)")
                        comparison.expectWithinBounds()
                    }
                }
            }
        }
    }
}
