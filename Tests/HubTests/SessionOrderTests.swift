// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// Ordered sessions over a real OneBot WebSocket: the turns of one user run one at a time in the
/// order they arrived (each reply answers its own message, each upstream request carries exactly
/// the exchanges before it, the stored history alternates user/assistant in that order), while
/// different users' turns still reach the upstream at the same time.
@Suite(.timeLimit(.minutes(1)))
struct SessionOrderTests {
    let selfID: Int64 = 3_847_291_056
    let alice: Int64 = 1_049_382_716
    let bob: Int64 = 2_093_847_165

    /// Runs an upstream answering after 100 ms, a hub on `databasePath` and a connected bot.
    func withBot(
        upstream: FakeUpstream, databasePath: String, _ body: @escaping @Sendable (FakeOneBot) async throws -> Void
    ) async throws {
        try await upstream.run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: databasePath, chat: "  rate_limit: { per_user: off }")
            try await TestHub.run(configuration) { port, _ in
                let bot = FakeOneBot(selfID: selfID)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    try await bot.waitUntilConnected()
                    do {
                        try await body(bot)
                    } catch {
                        bot.disconnect()
                        throw error
                    }
                    bot.disconnect()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    /// The stored history of `user`'s private chat with the bot, read from the hub's SQLite file.
    func storedHistory(databasePath: String, user: Int64) async throws -> [StoredMessage] {
        let store = SQLiteConversationStore(database: try HubDatabase(path: databasePath))
        let key = SessionKey(platform: .qq, botID: String(selfID), group: nil, user: String(user))
        return try await store.snapshot(key, limit: 100).history
    }

    @Test func fiveMessagesOfOneUserAreAnsweredOneAtATimeInOrder() async throws {
        let upstream = FakeUpstream(answerDelay: .milliseconds(100))
        let path = TestHub.databasePath()
        let texts = (1...5).map { "question number \($0)" }
        try await withBot(upstream: upstream, databasePath: path) { bot in
            for (index, text) in texts.enumerated() {
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: alice, messageID: 500 + Int64(index), text: text))
            }
            var replies = [String]()
            for index in 0..<5 {
                let action = try await bot.action(index, timeout: .seconds(10))
                #expect(action["params"]?["user_id"] == .int(alice))
                replies.append(action.messageText)
            }
            #expect(replies == texts.map { "echo: \($0)" })
            // One at a time: each request carried every exchange before it and nothing after.
            let requests = upstream.requests
            #expect(requests.count == 5)
            for (index, request) in requests.enumerated() {
                let asked = request.messages.filter { $0.role == "user" }.map(\.content)
                #expect(asked == Array(texts[...index]), "request \(index)")
                let earlier: [String] = (0..<index).flatMap { _ in ["user", "assistant"] }
                let roles: [String] = ["system"] + earlier + ["user"]
                #expect(request.messages.map(\.role) == roles)
            }
            #expect(upstream.peakConcurrency == 1)
        }
        let history = try await storedHistory(databasePath: path, user: alice)
        let roles: [ChatMessage.Role] = (0..<5).flatMap { _ in [ChatMessage.Role.user, .assistant] }
        #expect(history.map(\.role) == roles)
        #expect(history.map(\.content) == texts.flatMap { [$0, "echo: \($0)"] })
    }

    @Test func twoUsersTurnsStillRunAtTheSameTime() async throws {
        let upstream = FakeUpstream()
        let path = TestHub.databasePath()
        let users = [alice, bob]
        try await withBot(upstream: upstream, databasePath: path) { bot in
            for turn in 0..<3 {
                for (number, user) in users.enumerated() {
                    bot.send(
                        OneBotFrames.privateMessage(
                            selfID: selfID, user: user, messageID: 600 + Int64(10 * number + turn), text: "user \(number) turn \(turn) held"))
                }
            }
            // Both users' first turns reach the upstream, which holds them: the sessions overlap.
            try await eventually("both first turns at the upstream", timeout: .seconds(10)) { upstream.requests.count == 2 }
            #expect(Set(upstream.requests.map { $0.messages.last?.content ?? "" }) == ["user 0 turn 0 held", "user 1 turn 0 held"])
            upstream.release()
            _ = try await bot.action(5, timeout: .seconds(10))
            let actions = bot.actions
            #expect(actions.count == 6)
            for (number, user) in users.enumerated() {
                let replies = actions.filter { $0["params"]?["user_id"] == .int(user) }.map(\.messageText)
                #expect(replies == (0..<3).map { "echo: user \(number) turn \($0) held" })
            }
            // Each session runs one turn at a time, and the two sessions overlapped.
            #expect(upstream.peakConcurrency == 2)
        }
        for (number, user) in users.enumerated() {
            let history = try await storedHistory(databasePath: path, user: user)
            #expect(history.map(\.content) == (0..<3).flatMap { ["user \(number) turn \($0) held", "echo: user \(number) turn \($0) held"] })
        }
    }
}
