// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub

/// Hubs on a real Redis: shared dedupe and rate limits across two hub instances, and every turn
/// answered while Redis stops and comes back.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RedisIntegrationTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716

    /// Runs one hub per entry of `databases` on the same upstream and Redis, each with a bot of the
    /// same self_id connected (one QQ account with a reverse WebSocket to every hub replica).
    func withHubs(
        _ count: Int, redisURL: String, chat: String = "", upstream: FakeUpstream = FakeUpstream(),
        _ body: @escaping @Sendable ([FakeOneBot], [any TestClientProtocol]) async throws -> Void
    ) async throws {
        let prefix = "test:\(UUID().uuidString):"
        let extra = """
            redis: { url: "\(redisURL)", key_prefix: "\(prefix)", command_timeout: 0.3, connect_timeout: 0.5 }
            """
        try await upstream.run { base in
            let configurations = try (0..<count).map { _ in
                try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), chat: chat, extra: extra)
            }
            try await nest(configurations[...], bots: [], clients: [], body)
        }
    }

    private func nest(
        _ remaining: ArraySlice<HubConfiguration>, bots: [FakeOneBot], clients: [any TestClientProtocol],
        _ body: @escaping @Sendable ([FakeOneBot], [any TestClientProtocol]) async throws -> Void
    ) async throws {
        guard let configuration = remaining.first else {
            try await body(bots, clients)
            return
        }
        try await TestHub.run(configuration) { port, client in
            let bot = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await bot.connect(port: port) }
                try await bot.waitUntilConnected()
                do {
                    try await nest(remaining.dropFirst(), bots: bots + [bot], clients: clients + [client], body)
                } catch {
                    bot.disconnect()
                    throw error
                }
                bot.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    /// Waits (bounded) until `bots` together received `count` actions, and returns every action.
    /// Tests prove that no more can come by accounting for every turn (see ``total(_:over:atLeast:)``).
    func actions(of bots: [FakeOneBot], count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + timeout
        while bots.reduce(0, { $0 + $1.actions.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return bots.flatMap(\.actions)
    }

    /// The sum of `samples` over the hubs' `/metrics`, once it reaches `atLeast` (or after 10 s).
    func total(_ samples: [String], over clients: [any TestClientProtocol], atLeast: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            var sum = 0
            for client in clients {
                let text = try await metricsText(client)
                for sample in samples { sum += Self.value(of: sample, in: text) }
            }
            if sum >= atLeast || ContinuousClock.now >= deadline { return sum }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The `/metrics` text of a hub.
    func metricsText(_ client: any TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
    }

    /// The value of one sample line (`name{labels} value`), 0 when absent.
    static func value(of sample: String, in text: String) -> Int {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Int(Double(line.dropFirst(sample.count + 1)) ?? 0)
        }
        return 0
    }

    @Test func twoHubsOnOneRedisAnswerEachEventOnce() async throws {
        let redis = try await RedisServer.sharedURL()
        try await withHubs(2, redisURL: redis, chat: "  rate_limit: { per_user: off }") { bots, clients in
            for index in 0..<20 {
                // The same event reaches both hubs, as when a bot reports to two replicas.
                let event = OneBotFrames.privateMessage(selfID: selfID, user: user + Int64(index), messageID: 9_000 + Int64(index), text: "q\(index)")
                for bot in bots { bot.send(event) }
            }
            _ = try await actions(of: bots, count: 20)
            // Each event was dropped once, by whichever hub came second, through Redis. Each of the
            // 40 turns ends answered or dropped: with 20 of each, none is left to answer later.
            let dropped = try await total([#"hub_duplicates_dropped_total{door="qq"}"#], over: clients, atLeast: 20)
            #expect(dropped == 20)
            let answered = bots.flatMap(\.actions)
            #expect(answered.count == 20)
            #expect(Set(answered.map(\.messageText)) == Set((0..<20).map { "echo: q\($0)" }))
        }
    }

    @Test func rateLimitHoldsAcrossBothHubs() async throws {
        let redis = try await RedisServer.sharedURL()
        try await withHubs(2, redisURL: redis, chat: "  rate_limit: { per_user: \"5/60s\" }") { bots, clients in
            for index in 0..<12 {
                bots[index % 2].send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 7_000 + Int64(index), text: "m\(index)"))
                try await Task.sleep(for: .milliseconds(30))
            }
            _ = try await actions(of: bots, count: 6)
            // Every turn ends answered or limited: with 7 of the 12 limited, the 5 others are the
            // answers, and no more can come.
            let limited = try await total(
                [#"hub_rate_limited_total{door="qq",notified="yes"}"#, #"hub_rate_limited_total{door="qq",notified="no"}"#], over: clients,
                atLeast: 7)
            #expect(limited == 7)
            let replies = bots.flatMap(\.actions)
            let texts = replies.map(\.messageText)
            #expect(texts.filter { $0.hasPrefix("echo: ") }.count == 5)
            #expect(texts.filter { $0.contains("too fast") }.count == 1)
            #expect(replies.count == 6)
        }
    }

    @Test func everyTurnIsAnsweredWhileRedisStopsAndReturns() async throws {
        let server = try await RedisServer.start()
        let upstream = FakeUpstream()
        try await withHubs(1, redisURL: server.url, chat: "  rate_limit: { per_user: off }", upstream: upstream) { bots, clients in
            let bot = bots[0]
            var sent = 0
            var nextAction = 0
            func turn() async throws {
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 5_000 + Int64(sent), text: "turn \(sent)"))
                let reply = try await bot.action(nextAction)
                #expect(reply.messageText == "echo: turn \(sent)")
                sent += 1
                nextAction += 1
            }
            for _ in 0..<5 { try await turn() }
            try await waitForMetrics(clients[0], ["redis_up 1"])
            // A stream of turns from other users, with Redis stopped in the middle of it.
            for index in 0..<20 {
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: 500 + Int64(index), messageID: 6_000 + Int64(index), text: "burst \(index)"))
                if index == 6 { await server.stop() }
                try await Task.sleep(for: .milliseconds(5))
            }
            // Each burst user sends once; the turns that follow check every later action's index.
            let burst = try await actions(of: [bot], count: nextAction + 20).dropFirst(nextAction).map(\.messageText)
            #expect(Set(burst) == Set((0..<20).map { "echo: burst \($0)" }))
            nextAction += 20
            for _ in 0..<5 { try await turn() }
            try await waitForMetrics(clients[0], ["redis_up 0"])
            try await clients[0].execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)  // Redis is optional
                #expect(String(buffer: response.body).contains("redis: down"))
            }
            try await server.restart()
            try await waitForMetrics(clients[0], ["redis_up 1"], timeout: .seconds(10))
            for _ in 0..<5 { try await turn() }
            #expect(bot.actions.count == 35)
            // The history stayed whole through it all: the last request carried the 14 earlier turns.
            let last = try #require(upstream.requests.last)
            let expectedCount = 1 + 2 * 14 + 1
            #expect(last.messages.count == expectedCount)
            let asked: [String] = last.messages.filter { $0.role == "user" }.map(\.content)
            let turns: [String] = (0..<15).map { "turn \($0)" }
            #expect(asked == turns)
        }
        await server.stop()
    }

    @Test func aRedisSlowerThanTheCommandTimeoutDoesNotHoldUpAnswers() async throws {
        let server = try await RedisServer.start()
        try await withHubs(1, redisURL: server.url, chat: "  rate_limit: { per_user: \"100/60s\" }") { bots, _ in
            let bot = bots[0]
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 1, text: "before"))
            #expect(try await bot.action(0).messageText == "echo: before")
            // Every client of the server waits 3 s for any answer; the hub gives up after 0.3 s.
            let admin = try await RedisConnection.connect(try RedisConfiguration(url: server.url))
            _ = try await admin.send([RedisCommand("CLIENT", "PAUSE", 3000, "ALL")])
            let started = ContinuousClock.now
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 2, text: "during"))
            #expect(try await bot.action(1).messageText == "echo: during")
            #expect(ContinuousClock.now - started < .seconds(2))
            await admin.close()
        }
        await server.stop()
    }

    @Test func aCachedAnswerMakesNoUpstreamCall() async throws {
        let redis = try await RedisServer.sharedURL()
        let upstream = FakeUpstream()
        try await withHubs(2, redisURL: redis, upstream: upstream) { bots, clients in
            // Two new users ask the same first question on two hubs: one upstream call.
            bots[0].send(OneBotFrames.privateMessage(selfID: selfID, user: 11, messageID: 1, text: "what is 2+2?"))
            _ = try await bots[0].action(0)
            bots[1].send(OneBotFrames.privateMessage(selfID: selfID, user: 12, messageID: 2, text: "what is 2+2?"))
            #expect(try await bots[1].action(0).messageText == "echo: what is 2+2?")
            #expect(upstream.requests.count == 1)
            try await waitForMetrics(clients[1], [#"hub_llm_cache_total{outcome="hit"} 1"#])
        }
    }
}
