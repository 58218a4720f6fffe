// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Hub

/// QQ voice messages end to end: a `record` segment over a real OneBot WebSocket, its audio had
/// through `get_record` (answered by the test's OneBot with WAV) or a URL, recognized by the real
/// PocketSphinx (with a grammar), answered by the upstream like text.
@Suite(.timeLimit(.minutes(1)))
struct OneBotVoiceInTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716
    static let sentence = "hello world what time is it"
    static let grammar = "#JSGF V1.0; grammar hub; public <command> = hello world what time is it | turn on the kitchen light | good morning;"

    /// espeak-ng's en-us WAV of ``sentence``.
    static func spokenWAV() async throws -> [UInt8] {
        let pcm = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: sentence, voice: "en-us"), deadline: nil, onAudio: nil)
        return try AudioEncoder().encode(pcm, as: .wav)
    }

    static func voiceMessage(selfID: Int64, user: Int64, messageID: Int64, file: String, url: String? = nil) -> JSONValue {
        var data: [String: JSONValue] = ["file": .string(file)]
        if let url { data["url"] = .string(url) }
        return [
            "time": 1_717_000_000, "self_id": .int(selfID), "post_type": "message", "message_type": "private", "sub_type": "friend",
            "message_id": .int(messageID), "user_id": .int(user), "message": [["type": "record", "data": .object(data)]],
            "raw_message": .string("[CQ:record,file=\(file)]"), "font": 0, "sender": ["user_id": .int(user), "nickname": "Bob"],
        ]
    }

    /// A hub with PocketSphinx on the grammar, an upstream and a connected bot answering actions with `actionData`.
    func withVoiceBot(
        voice: String = "", actionData: @escaping @Sendable (JSONValue) -> JSONValue? = { _ in nil },
        _ body: @escaping @Sendable (FakeOneBot, FakeUpstream) async throws -> Void
    ) async throws {
        let upstream = FakeUpstream()
        try await upstream.run { base in
            let extra = """
                stt: { providers: [ { name: sphinx, kind: pocketsphinx, pool_size: 1, grammar: "\(Self.grammar)" } ] }
                \(voice)
                """
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { port, _ in
                let bot = FakeOneBot(selfID: selfID, actionData: actionData)
                try await bot.whileConnected(port: port) { try await body(bot, upstream) }
            }
        }
    }

    @Test func aVoiceMessageIsFetchedWithGetRecordRecognizedAndAnswered() async throws {
        let wav = try await Self.spokenWAV()
        try await withVoiceBot(actionData: { action in
            action["action"] == "get_record" ? ["file": "/impl/host/voice.wav", "base64": .string(Data(wav).base64EncodedString())] : nil
        }) { (bot: FakeOneBot, upstream: FakeUpstream) async throws in
            bot.send(Self.voiceMessage(selfID: selfID, user: user, messageID: 7, file: "6a1b2c3d.amr"))
            let fetch = try await bot.action(0)
            #expect(fetch["action"] == "get_record")
            #expect(fetch["params"]?["file"] == "6a1b2c3d.amr")
            #expect(fetch["params"]?["out_format"] == "wav")
            let reply = try await bot.action(1)
            #expect(reply["action"] == "send_msg")
            #expect(reply.messageText == "echo: \(Self.sentence)")
            #expect(upstream.requests.last?.messages.last?.content == Self.sentence)
        }
    }

    @Test func aURLOnLoopbackIsRefusedUnlessAllowed() async throws {
        let wav = try await Self.spokenWAV()
        let fetched = Atomic<Int>(0)
        let router = Router()
        router.get("/voice.wav") { _, _ -> Response in
            fetched.add(1, ordering: .relaxed)
            return Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: wav)))
        }
        let files = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await files.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/voice.wav"
            // go-cqhttp has no get_record (404): the segment's URL is next, and loopback is refused.
            let unsupported: @Sendable (JSONValue) -> JSONValue? = { _ in nil }
            try await withVoiceBot(actionData: unsupported) { (bot: FakeOneBot, upstream: FakeUpstream) async throws in
                bot.send(Self.voiceMessage(selfID: selfID, user: user, messageID: 8, file: "6a1b.amr", url: url))
                #expect(try await bot.action(0)["action"] == "get_record")
                let reply = try await bot.action(1)
                #expect(reply.messageText.contains("couldn't understand that voice message"))
                #expect(fetched.load(ordering: .relaxed) == 0)
                #expect(upstream.requests.isEmpty)
            }
            try await withVoiceBot(voice: "voice: { allowed_hosts: [ 127.0.0.1 ] }", actionData: unsupported) { (bot: FakeOneBot, _: FakeUpstream) async throws in
                bot.send(Self.voiceMessage(selfID: selfID, user: user, messageID: 9, file: "6a1b.amr", url: url))
                #expect(try await bot.action(0)["action"] == "get_record")
                #expect(try await bot.action(1).messageText == "echo: \(Self.sentence)")
                #expect(fetched.load(ordering: .relaxed) == 1)
            }
        }
    }

    @Test func silkThatWasNotConvertedGetsAShortReply() async throws {
        let silk = Array("\u{02}#!SILK_V3".utf8) + Array(repeating: 0x55, count: 200)
        try await withVoiceBot { (bot: FakeOneBot, upstream: FakeUpstream) async throws in
            bot.send(Self.voiceMessage(selfID: selfID, user: user, messageID: 10, file: "base64://" + Data(silk).base64EncodedString()))
            let reply = try await bot.action(0)
            #expect(reply["action"] == "send_msg")
            #expect(reply.messageText.contains("couldn't understand that voice message"))
            #expect(upstream.requests.isEmpty)
        }
    }
}
