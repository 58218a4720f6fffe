// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import Synchronization
import Testing

@testable import Hub

/// A Redis 300 ms away (every reply held by a proxy) slows each turn by its own round trips, and
/// nothing more: turns of many users wait on Redis side by side (forty users writing 25 ms apart
/// are each answered within one turn's worth of round trips), and the bot's connection keeps being
/// read meanwhile, so the response to an action is matched at once (the next part of a split reply
/// follows its predecessor within a fraction of one Redis delay).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RedisLatencyTests {
    let selfID: Int64 = 3_847_291_056
    static let redisDelay: Duration = .milliseconds(300)
    /// The Redis round trips one chat turn makes one after another, with the default configuration:
    /// cross-hub dedupe, rate limit, history read, history cache fill, response cache read and
    /// write, history append.
    static let roundTripsPerTurn = 7
    /// The most a reply may take: every round trip of its turn, plus one more and a second for the
    /// rest (upstream, SQLite, the bot's socket).
    static let replyBound = redisDelay * (roundTripsPerTurn + 1) + .seconds(1)

    @Test func turnsWaitingOnASlowRedisNeverHoldUpTheBotsConnection() async throws {
        let redis = try RedisConfiguration(url: try await RedisServer.sharedURL())
        guard case .tcp(_, let redisPort) = redis.endpoint else { throw Unmet(what: "a TCP Redis URL in HUB_TEST_REDIS_URL") }
        try await DelayingTCPProxy.run(targetPort: redisPort, delay: Self.redisDelay) { proxyPort in
            let extra = """
                redis: { url: "redis://127.0.0.1:\(proxyPort)/\(redis.database)", key_prefix: "test:\(UUID().uuidString):", command_timeout: 2, connect_timeout: 2 }
                """
            // Rate limits on, so every turn asks Redis; replies longer than 40 characters are split.
            let chat = "  rate_limit: { per_user: \"30/60s\", per_group: \"120/60s\" }\n  max_reply_length: 40"
            try await FakeUpstream().run { base in
                let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), chat: chat, extra: extra)
                try await TestHub.run(configuration) { port, client in
                    try await waitForMetrics(client, ["redis_up 1"], timeout: .seconds(10))
                    let bot = FakeOneBot(selfID: selfID)
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { try await bot.connect(port: port) }
                        try await bot.waitUntilConnected()
                        // One turn first, so Redis has the hub's scripts before anything is timed.
                        bot.send(OneBotFrames.privateMessage(selfID: selfID, user: 42, messageID: 42, text: "warm up"))
                        #expect(try await bot.action(0, timeout: .seconds(10)).messageText == "echo: warm up")
                        try await exchange(bot, after: 1)
                        bot.disconnect()
                        try await tasks.waitForAll()
                    }
                }
            }
        }
    }

    /// Forty users write 25 ms apart; after the tenth, one more asks for an answer in three parts.
    /// `earlier` actions were received before.
    func exchange(_ bot: FakeOneBot, after earlier: Int) async throws {
        let users = (0..<40).map { 300_000 + Int64($0) }
        let splitter: Int64 = 399_999
        let splitText = "First sentence here. Second sentence is here. Third one ends it."
        let expected = earlier + users.count + 3
        // When each action arrived, as seen by polling the bot every 2 ms.
        let arrivals = Mutex([ContinuousClock.Instant]())
        let watcher = Task {
            let deadline = ContinuousClock.now + .seconds(30)
            while arrivals.withLock({ $0.count }) < expected, ContinuousClock.now < deadline {
                let count = bot.actions.count
                arrivals.withLock { stamps in
                    while stamps.count < count { stamps.append(.now) }
                }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        var sentAt = [Int64: ContinuousClock.Instant]()
        for (index, user) in users.enumerated() {
            sentAt[user] = .now
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: user, text: "hello from \(user)"))
            if index == 9 {
                sentAt[splitter] = .now
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: splitter, messageID: splitter, text: splitText))
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        _ = try await bot.action(expected - 1, timeout: .seconds(20))
        try await watcher.value
        let actions = bot.actions
        let stamps = arrivals.withLock { $0 }
        #expect(actions.count == expected)
        for user in users {
            let index = try #require(actions.firstIndex { $0["params"]?["user_id"] == .int(user) }, "no reply for \(user)")
            #expect(actions[index].messageText == "echo: hello from \(user)")
            let latency = stamps[index] - sentAt[user]!
            // It waited on Redis (at least one delay), and for no more than a few round trips.
            #expect(latency >= Self.redisDelay, "\(user): \(latency)")
            #expect(latency < Self.replyBound, "\(user): \(latency)")
        }
        let parts = actions.indices.filter { actions[$0]["params"]?["user_id"] == .int(splitter) }
        #expect(parts.map { actions[$0].messageText } == ["echo: First sentence here.", "Second sentence is here.", "Third one ends it."])
        #expect(stamps[parts[0]] - sentAt[splitter]! < Self.replyBound)
        // Each part goes out once the bot answered the one before: the answer was read and matched
        // at once, while thirty more users' turns were waiting on Redis.
        for (earlier, later) in zip(parts, parts.dropFirst()) {
            #expect(stamps[later] - stamps[earlier] < .milliseconds(150), "\(stamps[later] - stamps[earlier])")
        }
    }
}
