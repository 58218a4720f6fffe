// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOHTTP1
import Testing

/// The `batch` lane cannot starve chat: with 201 image jobs taken (one drawing, two seconds each,
/// and the queue of 200 full), QQ chat turns against a fast model are answered about as fast as
/// with the lane idle, and the next image job is refused at once with `Retry-After`.
@Suite(.timeLimit(.minutes(2)))
struct LaneIsolationTests {
    static let selfID: Int64 = 3_847_291_056
    static let turns = 30
    /// 30 turns 200 ms apart span 6 s: two or three pictures at two seconds each.
    static let pace = Duration.milliseconds(200)

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
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { try await bot.connect(port: port) }
                        try await bot.waitUntilConnected()
                        defer { bot.disconnect() }

                        // Warm up, then chat with the lane idle.
                        var index = 0
                        for _ in 0..<5 {
                            _ = try await Self.turn(bot, index)
                            index += 1
                        }
                        var idle = [Duration]()
                        for _ in 0..<Self.turns {
                            idle.append(try await Self.pacedTurn(bot, index))
                            index += 1
                        }

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
                        var saturated = [Duration]()
                        for _ in 0..<Self.turns {
                            saturated.append(try await Self.pacedTurn(bot, index))
                            index += 1
                        }
                        #expect(service.answered >= 1, "a picture was drawn while the chat was measured")
                        let during = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"])
                        #expect(during["batch"]?["running"] == 1 && (during["batch"]?["queued"]?.int64Value ?? 0) >= 190, "\(during.compactJSON)")
                        #expect(during["realtime"]?["refused"] == 0)
                        #expect(service.count("one too many") == 0)

                        let idleMedian = Self.median(idle)
                        let saturatedMedian = Self.median(saturated)
                        let bound = max(idleMedian * 3, idleMedian + .milliseconds(50))
                        print(
                            "lane isolation: chat median idle \(Self.ms(idleMedian)), saturated \(Self.ms(saturatedMedian)) "
                                + "(bound \(Self.ms(bound))); "
                                + "p90 idle \(Self.ms(Self.percentile(idle, 0.9))), saturated \(Self.ms(Self.percentile(saturated, 0.9))); "
                                + "200 jobs submitted in \(Self.ms(submitTime)); pictures drawn \(service.answered)")
                        #expect(saturatedMedian <= bound, "saturated median \(Self.ms(saturatedMedian)) over \(Self.ms(bound))")
                    }
                }
            }
        }
    }

    /// One chat turn by a new user (no history to grow): the time from sending to the answer.
    static func turn(_ bot: FakeOneBot, _ index: Int) async throws -> Duration {
        let text = "turn \(index)"
        let start = ContinuousClock.now
        bot.send(OneBotFrames.privateMessage(selfID: selfID, user: Int64(2_000_000 + index), messageID: Int64(index + 1), text: text))
        let deadline = start + .seconds(10)
        while bot.actions.count <= index {
            guard ContinuousClock.now < deadline else { throw FakeOneBot.NoAction(index: index) }
            try await Task.sleep(for: .milliseconds(1))
        }
        let elapsed = ContinuousClock.now - start
        #expect(bot.actions[index].messageText == "echo: \(text)")
        return elapsed
    }

    /// A turn, then a pause so that turns start ``pace`` apart.
    static func pacedTurn(_ bot: FakeOneBot, _ index: Int) async throws -> Duration {
        let start = ContinuousClock.now
        let elapsed = try await turn(bot, index)
        try await Task.sleep(until: start + pace)
        return elapsed
    }

    static func median(_ values: [Duration]) -> Duration { percentile(values, 0.5) }

    static func percentile(_ values: [Duration], _ fraction: Double) -> Duration {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }

    static func ms(_ duration: Duration) -> String {
        String(format: "%.1f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }
}
