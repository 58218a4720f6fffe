// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub

/// `/voice on` on the QQ door over a real reverse WebSocket: answers come as text and as `record`
/// segments carrying a WAV clip inline (`base64://`), each its own message.
@Suite(.timeLimit(.minutes(2)))
struct OneBotVoiceTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716

    /// An upstream answering `echo: …`, a hub with `extra`, and a connected bot, for `body`.
    func withBot(extra: String = "", _ body: @escaping @Sendable (FakeOneBot) async throws -> Void) async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { port, _ in
                let bot = FakeOneBot(selfID: selfID)
                try await bot.whileConnected(port: port) { try await body(bot) }
            }
        }
    }

    /// Sends a private message from the user.
    func say(_ bot: FakeOneBot, _ id: Int64, _ text: String) {
        bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: id, text: text))
    }

    /// The clip of a `record` message, decoded; fails the test when it is anything else.
    static func clip(of action: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws -> PCMAudio {
        let segments = try #require(action["params"]?["message"]?.arrayValue, sourceLocation: sourceLocation)
        try #require(segments.count == 1 && segments[0]["type"] == "record", "not a record message: \(action.compactJSON.prefix(200))", sourceLocation: sourceLocation)
        let file = try #require(segments[0]["data"]?["file"]?.stringValue, sourceLocation: sourceLocation)
        try #require(file.hasPrefix("base64://"), sourceLocation: sourceLocation)
        let bytes = try #require(Data(base64Encoded: String(file.dropFirst("base64://".count))), "not base64", sourceLocation: sourceLocation)
        #expect(bytes.prefix(4) == Data("RIFF".utf8) && bytes.dropFirst(8).prefix(4) == Data("WAVE".utf8), "not a WAV file", sourceLocation: sourceLocation)
        return try AudioDecoder().decode(Array(bytes))
    }

    /// The actions from `start` up to and including the first whose text contains `fence` (a
    /// command's answer sent after the messages under test, so nothing before it is still to come).
    static func actions(_ bot: FakeOneBot, from start: Int, through fence: String) async throws -> [JSONValue] {
        var found = [JSONValue]()
        var index = start
        while true {
            let action = try await bot.action(index, timeout: .seconds(30))
            found.append(action)
            if action.messageText.contains(fence) { return found }
            index += 1
        }
    }

    @Test func voiceOnAddsAClipAfterTheTextAndVoiceOffStopsIt() async throws {
        try await withBot { bot in
            say(bot, 1, "/voice on")
            #expect(try await bot.action(0).messageText == "Voice replies on: I'll speak my answers too.")
            say(bot, 2, "hello there")
            say(bot, 3, "/voice")
            let answered = try await Self.actions(bot, from: 1, through: "Voice replies are on")
            try #require(answered.count == 3, "\(answered.map(\.messageTypes))")
            #expect(answered[0].messageText == "echo: hello there")
            #expect(answered[0].messageTypes == ["text"])
            #expect(answered[1]["action"] == "send_msg")
            #expect(answered[1]["params"]?["user_id"] == .int(user))
            let clip = try Self.clip(of: answered[1])
            #expect((0.5...5).contains(clip.seconds), "\(clip.seconds) s")
            #expect(clip.samples.contains { abs(Int($0)) > 1000 }, "silence")

            say(bot, 4, "/voice off")
            #expect(try await bot.action(4).messageText == "Voice replies off.")
            say(bot, 5, "quiet now")
            say(bot, 6, "/voice")
            let quiet = try await Self.actions(bot, from: 5, through: "Voice replies are off")
            #expect(quiet.map(\.messageTypes) == [["text"], ["text"]])
            #expect(quiet[0].messageText == "echo: quiet now")
        }
    }

    @Test func aLongAnswerIsSplitIntoShortClips() async throws {
        try await withBot(extra: "voice: { max_clip_seconds: 2 }") { bot in
            say(bot, 1, "/voice on")
            _ = try await bot.action(0)
            let text = "The first sentence is here. A second one follows it closely. Then comes a third sentence. And a fourth to finish."
            say(bot, 2, text)
            say(bot, 3, "/voice")
            let answered = try await Self.actions(bot, from: 1, through: "Voice replies are on")
            #expect(answered.first?.messageText == "echo: \(text)")
            let clips = try answered.dropFirst().dropLast().map { try Self.clip(of: $0) }
            #expect(clips.count >= 3, "\(clips.count) clips")
            for clip in clips { #expect(clip.seconds <= 2.05 && clip.seconds > 0.1, "clip of \(clip.seconds) s") }
            let total = clips.reduce(0) { $0 + $1.seconds }
            #expect(total > 4, "\(total) s in all")
        }
    }

    @Test func voiceModeSendsClipsOnly() async throws {
        try await withBot(extra: "voice: { reply: voice }") { bot in
            say(bot, 1, "/voice on")
            _ = try await bot.action(0)
            say(bot, 2, "say something")
            say(bot, 3, "/voice")
            let answered = try await Self.actions(bot, from: 1, through: "Voice replies are on")
            let clips = answered.dropLast()
            #expect(!clips.isEmpty)
            for action in clips {
                #expect(action.messageTypes == ["record"])
                let clip = try Self.clip(of: action)
                #expect(clip.seconds > 0.3)
            }
        }
    }

    @Test func aFailingSynthesizerStillDeliversTheText() async throws {
        // A port nothing listens on.
        let dead = try HubProcess.freePort()
        let extra = "tts: { providers: [ { name: gone, kind: openai, base_url: \"http://127.0.0.1:\(dead)/v1\", timeout: 2 } ] }"
        try await withBot(extra: extra) { bot in
            say(bot, 1, "/voice on")
            #expect(try await bot.action(0).messageText.hasPrefix("Voice replies on"))
            say(bot, 2, "are you there")
            say(bot, 3, "/voice")
            let answered = try await Self.actions(bot, from: 1, through: "Voice replies are on")
            #expect(answered.map(\.messageTypes) == [["text"], ["text"]])
            #expect(answered.first?.messageText == "echo: are you there")
        }
    }
}
