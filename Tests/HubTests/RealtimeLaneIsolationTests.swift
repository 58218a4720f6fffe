// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOHTTP1
import Testing

/// The `realtime` lane cannot hold up pictures: with chat turns held by a model that does not
/// answer (two running, two waiting: `lanes.realtime` full), further chat is refused at once on
/// every door (a short busy notice on QQ, 429 on the API), while image jobs submitted meanwhile are
/// drawn and a `/draw` picture queued earlier reaches QQ, all before the held turns end.
@Suite(.timeLimit(.minutes(2)))
struct RealtimeLaneIsolationTests {
    static let selfID: Int64 = 3_847_291_056
    static let drawer: Int64 = 4_000_001
    /// The users whose turns fill the lane, and the one refused.
    static let holders: [Int64] = [3_000_001, 3_000_002, 3_000_003, 3_000_004]
    static let latecomer: Int64 = 3_000_005

    @Test func aSaturatedRealtimeLaneRefusesChatAndDoesNotHoldUpImages() async throws {
        // Held until the test lets go, however long a loaded machine takes.
        let upstream = FakeUpstream(holdLimit: .seconds(90))
        let images = FakeImageService()
        try await upstream.run { llm in
            try await images.run { base in
                let configuration = try ImageHub.configuration(
                    service: base, providers: [("good", "ok")], batch: "{ max_concurrent: 1, queue: 16 }",
                    lanes: "realtime: { max_concurrent: 2, queue: 2 }",
                    extra: """
                        llm:
                          providers: [ { name: fake, base_url: "\(llm)", api_key: k, models: [ { name: model-a } ], timeout: 90, retry_attempts: 0 } ]
                        """)
                try await TestHub.run(configuration) { port, _ in
                    let bot = FakeOneBot(selfID: Self.selfID)
                    try await bot.whileConnected(port: port) {
                        // A picture asked for in chat, drawing (held at the image service) before the lane fills.
                        images.hold()
                        bot.send(OneBotFrames.privateMessage(selfID: Self.selfID, user: Self.drawer, messageID: 100, text: "/draw a red kite"))
                        let ack = try await Self.answers(bot, to: Self.drawer, count: 1)[0]
                        #expect(ack.messageText.contains("“a red kite”"), "\(ack.messageText)")
                        try await images.waitForRequest("a red kite")
                        try await ImageHub.until("the /draw turn to leave the lane") {
                            let realtime = try await ImageHub.lanes(port)["realtime"]
                            return realtime?["running"] == 0 && realtime?["queued"] == 0
                        }

                        // Fill the lane: two turns at the model, which does not answer, two waiting.
                        for (offset, user) in Self.holders.enumerated() {
                            bot.send(
                                OneBotFrames.privateMessage(selfID: Self.selfID, user: user, messageID: Int64(200 + offset), text: "held \(offset)"))
                        }
                        try await eventually("two turns at the model", timeout: .seconds(20)) { Self.heldRequests(upstream) == 2 }
                        try await ImageHub.until("the realtime lane to be full", timeout: .seconds(20)) {
                            let realtime = try await ImageHub.lanes(port)["realtime"]
                            return realtime?["running"] == 2 && realtime?["queued"] == 2
                        }

                        // Further chat is refused at once: a busy notice on QQ, 429 on the API.
                        bot.send(OneBotFrames.privateMessage(selfID: Self.selfID, user: Self.latecomer, messageID: 300, text: "anyone there?"))
                        let busy = try await Self.answers(bot, to: Self.latecomer, count: 1)[0]
                        #expect(busy.messageText == "I'm busy right now, please try again in a moment.", "\(busy.compactJSON)")
                        let completion = try await ImageHub.call(
                            port, .POST, "/v1/chat/completions", body: #"{"model":"model-a","messages":[{"role":"user","content":"hi"}]}"#)
                        #expect(completion.status == 429, "\(completion)")
                        #expect(completion.header("retry-after") == "1", "\(completion.headers)")
                        #expect(completion.json?["error"]?["type"] == "rate_limit_error", "\(completion)")
                        #expect(completion.errorMessage?.contains("busy") == true, "\(completion)")
                        let generate = try await ImageHub.call(port, .POST, "/api/v1/llm/generate", body: #"{"prompt":"hi"}"#)
                        #expect(generate.status == 429, "\(generate)")
                        #expect(generate.errorMessage?.contains("busy") == true, "\(generate)")

                        // Pictures, meanwhile: three tasks and one OpenAI-shaped request that waits for its picture.
                        var tasks = [String]()
                        for number in 1...3 { tasks.append(try await ImageHub.submit(port, prompt: "picture \(number)")) }
                        images.release()
                        let openAI = try await ImageHub.call(
                            port, .POST, "/v1/images/generations", body: #"{"prompt":"an openai picture","response_format":"b64_json"}"#)
                        #expect(openAI.status == 200, "\(openAI)")
                        #expect(
                            openAI.json?["data"]?.arrayValue?.first?["b64_json"]?.stringValue
                                == Data(FakeImageService.png(for: "an openai picture")).base64EncodedString(), "\(openAI)")
                        for (number, id) in tasks.enumerated() {
                            let status = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed", "cancelled"])
                            #expect(status["status"] == "succeeded", "picture \(number + 1): \(status.compactJSON)")
                        }
                        // The /draw picture reaches its chat: the acknowledgement, the caption, the picture.
                        let drawn = try await Self.answers(bot, to: Self.drawer, count: 3)
                        #expect(drawn[1].messageText == "Here is “a red kite”:", "\(drawn[1].compactJSON.prefix(300))")
                        #expect(drawn[2].messageTypes == ["image"], "\(drawn[2].compactJSON.prefix(300))")

                        // All of it while the lane stayed full: the waiting turns never reached the model.
                        let during = try await ImageHub.lanes(port)
                        #expect(during["realtime"]?["running"] == 2 && during["realtime"]?["queued"] == 2, "still full: \(during.compactJSON)")
                        #expect(during["realtime"]?["refused"] == 3, "QQ, chat completions, generate: \(during.compactJSON)")
                        #expect(during["batch"]?["refused"] == 0 && during["batch"]?["queued"] == 0, "\(during.compactJSON)")
                        #expect(Self.heldRequests(upstream) == 2)
                        let asked = upstream.requests.map { $0.messages.last?.content ?? "" }
                        #expect(asked.count == 2, "only the running turns reached the model: \(asked)")
                        #expect(Self.holders.allSatisfy { user in !bot.actions.contains { $0["params"]?["user_id"] == .int(user) } })

                        // The model answers at last: every held turn, the waiting ones too, gets its answer.
                        upstream.release()
                        for (offset, user) in Self.holders.enumerated() {
                            let answer = try await Self.answers(bot, to: user, count: 1)[0]
                            #expect(answer.messageText == "echo: held \(offset)", "\(answer.compactJSON)")
                        }
                        try await ImageHub.until("the realtime lane to drain") {
                            let realtime = try await ImageHub.lanes(port)["realtime"]
                            return realtime?["running"] == 0 && realtime?["queued"] == 0
                        }
                    }
                }
            }
        }
    }

    /// Requests the model got for a "held" turn.
    static func heldRequests(_ upstream: FakeUpstream) -> Int {
        upstream.requests.count { $0.messages.last(where: { $0.role == "user" })?.content.contains("held") == true }
    }

    /// The first `count` actions addressed to `user`, waiting for them (bounded).
    static func answers(_ bot: FakeOneBot, to user: Int64, count: Int) async throws -> [JSONValue] {
        var found = [JSONValue]()
        try await eventually("\(count) answers to \(user)", timeout: .seconds(20)) {
            found = bot.actions.filter { $0["params"]?["user_id"] == .int(user) }
            return found.count >= count
        }
        return Array(found.prefix(count))
    }
}
