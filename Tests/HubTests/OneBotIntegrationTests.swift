// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing

@testable import Hub
import WSCore
import NIOHTTP1

/// The QQ door end to end: the test plays a OneBot implementation over a real WebSocket and over
/// HTTP POST against the hub on a loopback port, with an OpenAI-compatible upstream on loopback.
@Suite(.timeLimit(.minutes(1)))
struct OneBotIntegrationTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716
    let group: Int64 = 736_251_904

    /// Runs an upstream and a hub, and a bot connected to the hub for the duration of `body`.
    func withConnectedBot(
        onebot: String = "", chat: String = "", databasePath: String = TestHub.databasePath(), upstream: FakeUpstream = FakeUpstream(),
        _ body: @escaping @Sendable (FakeOneBot, Int, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await upstream.run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: databasePath, onebot: onebot, chat: chat)
            try await TestHub.run(configuration) { port, client in
                let bot = FakeOneBot(selfID: selfID)
                try await bot.whileConnected(port: port) { try await body(bot, port, client) }
            }
        }
    }

    @Test func privateChatIsAnsweredAndRemembered() async throws {
        let upstream = FakeUpstream()
        try await withConnectedBot(upstream: upstream) { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: -1_834_013_271, text: "hello there"))
            let first = try await bot.action(0)
            #expect(first["action"] == "send_msg")
            #expect(first["params"]?["message_type"] == "private")
            #expect(first["params"]?["user_id"] == .int(user))
            #expect(first.messageText == "echo: hello there")
            #expect(first["echo"]?.stringValue?.isEmpty == false)

            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 42, text: "and again"))
            let second = try await bot.action(1)
            #expect(second.messageText == "echo: and again")
            // The second request carried the first exchange as history, after the persona.
            let messages = try #require(upstream.requests.last).messages
            #expect(messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(messages[1].content == "hello there")
            #expect(messages[2].content == "echo: hello there")
            #expect(upstream.requests.last?.authorization == "Bearer upstream-key")
        }
    }

    @Test func groupReplyQuotesAndMentionsTheSender() async throws {
        try await withConnectedBot { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            // go-cqhttp's default string format, with an escaped bracket in the text.
            bot.send(
                OneBotFrames.groupMessage(
                    selfID: selfID, group: group, user: user, messageID: -55012,
                    message: .string("[CQ:at,qq=\(selfID)] ping &#91;1&#93;")))
            let reply = try await bot.action(0)
            #expect(reply["params"]?["message_type"] == "group")
            #expect(reply["params"]?["group_id"] == .int(group))
            #expect(reply.messageTypes == ["reply", "at", "text"])
            let segments = try #require(reply["params"]?["message"]?.arrayValue)
            #expect(segments[0]["data"]?["id"] == "-55012")
            #expect(segments[1]["data"]?["qq"] == .string(String(user)))
            #expect(reply.messageText == " echo: ping [1]")
        }
    }

    @Test func groupTriggersAndChatterThatIsNotForTheBot() async throws {
        try await withConnectedBot { (bot: FakeOneBot, _: Int, client: any TestClientProtocol) async throws in
            let groupID = group
            func groupFrame(_ id: Int64, _ message: JSONValue, user: Int64 = user) -> JSONValue {
                OneBotFrames.groupMessage(selfID: selfID, group: groupID, user: user, messageID: id, message: message)
            }
            // Chatter, the bot's own message and a message_sent echo: none of these are answered...
            bot.send(groupFrame(1, "just chatting"))
            bot.send(groupFrame(2, "/help", user: selfID))
            bot.send(OneBotFrames.groupMessage(selfID: selfID, group: self.group, user: selfID, messageID: 3, message: "@all", postType: "message_sent"))
            // ...so the first action answers the prefix trigger.
            bot.send(groupFrame(4, "/what time is it"))
            let prefixed = try await bot.action(0)
            #expect(prefixed.messageText == " echo: what time is it")

            // Nickname trigger, array format.
            bot.send(groupFrame(5, [["type": "text", "data": ["text": "Hubby, tell me a joke"]]]))
            #expect(try await bot.action(1).messageText == " echo: tell me a joke")

            // Reply to one of the bot's messages (the id the fake implementation returned for it),
            // with the @ that QQ clients add after a reply.
            let botMessageID: Int64 = -2_000_000_000 + 2
            // The hub learns that id from the implementation's answer; wait until it has recorded it.
            try await waitForMetrics(client, [#"hub_replies_total{door="qq",outcome="sent"} 2"#])
            bot.send(
                groupFrame(
                    6,
                    [
                        ["type": "reply", "data": ["id": .string(String(botMessageID))]],
                        ["type": "at", "data": ["qq": "999"]],
                        ["type": "text", "data": ["text": " why?"]],
                    ]))
            #expect(try await bot.action(2).messageText == " echo: why?")

            // A reply to somebody else's message is chatter.
            bot.send(groupFrame(7, [["type": "reply", "data": ["id": "123"]], ["type": "text", "data": ["text": "lol"]]]))
            // An @ of the bot (numeric qq, as some implementations send) is answered.
            bot.send(groupFrame(8, [["type": "at", "data": ["qq": .int(selfID)]], ["type": "text", "data": ["text": " hi"]]]))
            #expect(try await bot.action(3).messageText == " echo: hi")
            // Nothing else was answered: the member's turns run in order, so a marker from them is
            // answered next (the bot's own message and message_sent were passed over on arrival).
            bot.send(groupFrame(9, "/marker"))
            #expect(try await bot.action(4).messageText == " echo: marker")
            #expect(bot.actions.count == 5)
        }
    }

    @Test func commandsHelpResetModelPersona() async throws {
        let upstream = FakeUpstream()
        try await withConnectedBot(upstream: upstream) { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            var next = 0
            func say(_ text: String) async throws -> String {
                bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: Int64(100 + next), text: text))
                defer { next += 1 }
                return try await bot.action(next).messageText
            }
            let help = try await say("/help")
            #expect(help.contains("/reset") && help.contains("/model") && help.contains("/persona"))

            _ = try await say("remember this")
            #expect(try await say("/reset").contains("cleared"))
            _ = try await say("fresh start")
            #expect(upstream.requests.last?.messages.map(\.role) == ["system", "user"])

            let model = try await say("/model")
            #expect(model.contains("model-a") && model.contains("model-b"))
            #expect(try await say("/model model-b") == "Model switched to model-b.")
            #expect(try await say("/model nope").contains("Unknown model"))
            _ = try await say("which model?")
            #expect(upstream.requests.last?.model == "model-b")

            #expect(try await say("/persona You are a pirate.") == "Persona updated.")
            #expect(try await say("/persona").contains("pirate"))
            _ = try await say("ahoy")
            #expect(upstream.requests.last?.messages.first?.content == "You are a pirate.")
            #expect(try await say("/persona reset") == "Persona reset to the default.")
        }
    }

    @Test func sameEventThreeTimesGetsOneReply() async throws {
        try await withConnectedBot { (bot: FakeOneBot, port: Int, _: any TestClientProtocol) async throws in
            let event = OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 777, text: "only once")
            bot.send(event)
            bot.send(event)
            // The third copy arrives over HTTP POST, as go-cqhttp's retry would.
            let status = try await postCallback(port: port, body: event.compactJSON)
            #expect(status == 204)
            #expect(try await bot.action(0).messageText == "echo: only once")
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 778, text: "next"))
            // "next" is a marker: the three copies came before it in the same session, whose turns
            // run in order, so an answer to a copy would have come before its answer.
            #expect(try await bot.action(1).messageText == "echo: next")
            #expect(bot.actions.count == 2)
        }
    }

    @Test func httpPostEventIsAnsweredOverTheBotsWebSocket() async throws {
        try await withConnectedBot { (bot: FakeOneBot, port: Int, _: any TestClientProtocol) async throws in
            let event = OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 9, text: "via http")
            #expect(try await postCallback(port: port, body: event.compactJSON) == 204)
            #expect(try await bot.action(0).messageText == "echo: via http")
        }
    }

    @Test func malformedFramesAreIgnoredAndTheConnectionKept() async throws {
        try await withConnectedBot { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send("this is not json")
            bot.send("[1,2,3]")
            bot.send("{\"foo\":1}")
            bot.send("{\"post_type\":42}")
            bot.send("{\"post_type\":\"message\",\"message_type\":\"private\"}")
            bot.send("{\"post_type\":\"something_new\",\"self_id\":1}")
            bot.sendBinary([0xFF, 0x00, 0x13])
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 10, text: "still there?") .compactJSON + "\n")
            #expect(try await bot.action(0).messageText == "echo: still there?")
            #expect(bot.isConnected)
        }
    }

    @Test func replyReachesTheNewConnectionAfterAReconnect() async throws {
        let upstream = FakeUpstream(slowDelay: .milliseconds(1500))
        try await upstream.run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, _ in
                let first = FakeOneBot(selfID: selfID)
                let second = FakeOneBot(selfID: selfID)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await first.connect(port: port) }
                    try await first.waitUntilConnected()
                    first.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 11, text: "slow question"))
                    try await Task.sleep(for: .milliseconds(300))
                    first.disconnect()
                    try await Task.sleep(for: .milliseconds(100))
                    tasks.addTask { try await second.connect(port: port) }
                    try await second.waitUntilConnected()
                    #expect(try await second.action(0, timeout: .seconds(5)).messageText == "echo: slow question")
                    #expect(first.actions.isEmpty)
                    second.disconnect()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    @Test func aNewConnectionReplacesALiveOneWithTheSameSelfID() async throws {
        try await upstreamAndHub { (port: Int) async throws in
            let old = FakeOneBot(selfID: selfID)
            let new = FakeOneBot(selfID: selfID)
            try await withThrowingTaskGroup(of: WebSocketErrorCode?.self) { tasks in
                tasks.addTask { try await old.connect(port: port)?.closeCode }
                try await old.waitUntilConnected()
                tasks.addTask {
                    _ = try await new.connect(port: port)
                    return nil
                }
                try await new.waitUntilConnected()
                // The old connection is closed by the hub with a normal closure.
                let closed = try await tasks.next() ?? nil
                #expect(closed == .normalClosure)
                new.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 12, text: "on the new one"))
                #expect(try await new.action(0).messageText == "echo: on the new one")
                new.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func sessionsSurviveARestart() async throws {
        let path = TestHub.databasePath()
        let upstream = FakeUpstream()
        try await withConnectedBot(databasePath: path, upstream: upstream) { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 20, text: "my name is Bob"))
            _ = try await bot.action(0)
        }
        try await withConnectedBot(databasePath: path, upstream: upstream) { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            // Redelivery of the old event after the restart is still recognised as a duplicate.
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 20, text: "my name is Bob"))
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 21, text: "what is my name?"))
            // The redelivered copy came first in the same session, so had it been answered, that
            // answer would be the first action.
            #expect(try await bot.action(0).messageText == "echo: what is my name?")
            let messages = try #require(upstream.requests.last).messages
            #expect(messages.map(\.content).contains("my name is Bob"))
            #expect(bot.actions.count == 1)
        }
    }

    @Test func modelOutputCannotInjectCQCodes() async throws {
        try await withConnectedBot { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 30, text: "[CQ:at,qq=all] everyone"))
            let reply = try await bot.action(0)
            #expect(reply.messageTypes == ["text"])
            #expect(reply.messageText == "echo: [CQ:at,qq=all] everyone")
        }
    }

    @Test func longRepliesAreSplitAtSentenceBoundaries() async throws {
        try await withConnectedBot(chat: "  max_reply_length: 40") { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send(
                OneBotFrames.privateMessage(
                    selfID: selfID, user: user, messageID: 31, text: "First sentence here. Second sentence is here. Third one ends it."))
            var parts = [String]()
            for index in 0..<3 { parts.append(try await bot.action(index).messageText) }
            #expect(parts == ["echo: First sentence here.", "Second sentence is here.", "Third one ends it."])
            #expect(parts.allSatisfy { $0.unicodeScalars.count <= 40 })
        }
    }

    @Test func upstreamFailureStillAnswersTheUser() async throws {
        try await withConnectedBot { (bot: FakeOneBot, _: Int, _: any TestClientProtocol) async throws in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 32, text: "please fail"))
            #expect(try await bot.action(0).messageText.contains("Sorry"))
        }
    }

    // MARK: Helpers

    func upstreamAndHub(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, _ in try await body(port) }
        }
    }

    /// POSTs an event to the callback as an implementation would, signed with the test secret.
    func postCallback(port: Int, body: String, signature: String? = nil, selfID: String? = nil) async throws -> UInt {
        try await SignedCallback.post(port: port, selfID: selfID ?? String(self.selfID), body: body, signature: signature)
    }
}

