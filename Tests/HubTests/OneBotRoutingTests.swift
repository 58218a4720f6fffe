// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing

@testable import Hub
import WSCore
import NIOHTTP1

/// Where replies go: the forward HTTP API, the outbox of an offline bot, the API half of a split
/// connection; and how connections end: heartbeat silence, oversized frames.
@Suite(.timeLimit(.minutes(1)))
struct OneBotRoutingTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716

    func withHub(
        onebot: String = "", _ body: @escaping @Sendable (_ port: Int) async throws -> Void
    ) async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), onebot: onebot)
            try await TestHub.run(configuration) { port, _ in try await body(port) }
        }
    }

    func post(port: Int, _ event: JSONValue) async throws -> UInt {
        try await SignedCallback.post(port: port, path: "/api/v1/qq/callback", selfID: String(selfID), body: event.compactJSON)
    }

    @Test func httpPostEventIsAnsweredThroughTheForwardHTTPAPI() async throws {
        let api = FakeHTTPAPI()
        try await api.run { base in
            try await withHub(onebot: "  http_api: { \"\(selfID)\": \"\(base)\" }") { (port: Int) async throws in
                let status = try await post(port: port, OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 1, text: "over http"))
                #expect(status == 204)
                let call = try await api.call(0)
                #expect(call.action == "send_msg")
                #expect(call.authorization == "Bearer \(TestHub.token)")
                #expect(call.contentType == "application/json")
                #expect(call.params["user_id"] == .int(user))
                #expect(call.params.messageTextOfParams == "echo: over http")
            }
        }
    }

    /// The bot takes the `send_msg` and leaves without acknowledging it: the reply is sent again
    /// on its next connection (once), instead of being given up as undelivered.
    @Test func aReplyTheBotLeftWithoutAcknowledgingIsSentAgainWhenItIsBack() async throws {
        try await withHub { (port: Int) async throws in
            let silent = FakeOneBot(selfID: selfID, respondToActions: false)
            let first = Task { try await silent.connect(port: port) }
            try await silent.waitUntilConnected()
            silent.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 31, text: "are you there"))
            #expect(try await silent.action(0).messageText == "echo: are you there")
            silent.disconnect()
            _ = await first.result
            let bot = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await bot.connect(port: port) }
                #expect(try await bot.action(0, timeout: .seconds(10)).messageText == "echo: are you there")
                // Once: the next action answers a marker sent now.
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 32, text: "marker"))
                #expect(try await bot.action(1).messageText == "echo: marker")
                #expect(bot.actions.count == 2)
                bot.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func replyForAnOfflineBotWaitsInTheOutbox() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), onebot: "  reply_wait: 0.2")
            try await TestHub.run(configuration) { port, client in try await replyForAnOfflineBotWaitsInTheOutbox(port: port, client: client) }
        }
    }

    func replyForAnOfflineBotWaitsInTheOutbox(port: Int, client: any TestClientProtocol) async throws {
        do {
            let status = try await post(port: port, OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 2, text: "while away"))
            #expect(status == 204)
            // After reply_wait the reply is in the outbox.
            try await waitForMetrics(client, [#"hub_replies_total{door="qq",outcome="queued"} 1"#])
            let bot = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await bot.connect(port: port) }
                #expect(try await bot.action(0).messageText == "echo: while away")
                // Delivered once: the next action answers a marker sent now (the outbox is flushed
                // entry by entry as the connection opens, long before a new turn's answer).
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 6, text: "marker"))
                #expect(try await bot.action(1).messageText == "echo: marker")
                #expect(bot.actions.count == 2)
                bot.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func splitConnectionsEventsInAnswersOnTheAPIConnection() async throws {
        try await withHub { (port: Int) async throws in
            let events = FakeOneBot(selfID: selfID)
            let api = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                // Lagrange spells the role `Api`; the path decides for the event connection.
                tasks.addTask { try await api.connect(port: port, path: "/onebot/v11/ws/api", role: "Api") }
                tasks.addTask { try await events.connect(port: port, path: "/onebot/v11/ws/event", role: nil) }
                try await api.waitUntilConnected()
                try await events.waitUntilConnected()
                events.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 3, text: "split"))
                #expect(try await api.action(0).messageText == "echo: split")
                #expect(events.actions.isEmpty)
                api.disconnect()
                events.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func silentBotIsDisconnectedByTheHeartbeatWatchdog() async throws {
        try await withHub(onebot: "  heartbeat_grace: 0.1") { (port: Int) async throws in
            let bot = FakeOneBot(selfID: selfID)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: WebSocketErrorCode?.self) { tasks in
                tasks.addTask { try await bot.connect(port: port)?.closeCode }
                try await bot.waitUntilConnected()
                bot.send(OneBotFrames.heartbeat(selfID: selfID, intervalMS: 100))
                // Then silence: after max(3 × 100 ms, 100 ms + 100 ms) the hub closes with 1001.
                let code = try await tasks.next() ?? nil
                #expect(code == .goingAway)
                // The watchdog's close (about 0.3 s), not the server's idle timeout (75 s) or ping
                // (30 s): well under either, with room for a loaded machine (3.1 s seen under the
                // whole suite on 2 cores).
                #expect(ContinuousClock.now - started < .seconds(20))
            }
        }
    }

    /// A heartbeat interval of 10^13 ms or Int64.max once overflowed the watchdog's nanosecond
    /// arithmetic about a second later and killed the hub. Now it is clamped and the bot is answered.
    @Test(arguments: [Int64(10_000_000_000_000), .max])
    func anEnormousHeartbeatIntervalCannotKillTheHub(interval: Int64) async throws {
        try await withHub { (port: Int) async throws in
            let bot = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await bot.connect(port: port) }
                try await bot.waitUntilConnected()
                bot.send(OneBotFrames.heartbeat(selfID: selfID, intervalMS: interval))
                // The watchdog checks once a second: let it take the interval at least twice.
                try await Task.sleep(for: .milliseconds(2200))
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 5, text: "still there?"))
                #expect(try await bot.action(0).messageText == "echo: still there?")
                #expect(bot.isConnected)
                bot.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func oversizedFrameClosesWith1009() async throws {
        try await withHub(onebot: "  max_frame_bytes: 4096") { (port: Int) async throws in
            let bot = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: WebSocketErrorCode?.self) { tasks in
                tasks.addTask { try await bot.connect(port: port)?.closeCode }
                try await bot.waitUntilConnected()
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 4, text: String(repeating: "x", count: 10_000)))
                let code = try await tasks.next() ?? nil
                #expect(code == .messageTooLarge)
            }
        }
    }
}

extension JSONValue {
    /// The text segments of a `params` object's `message`.
    var messageTextOfParams: String {
        (self["message"]?.arrayValue ?? []).compactMap { $0["type"] == "text" ? $0["data"]?["text"]?.stringValue : nil }.joined()
    }
}
