// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Hub

/// Numbers from outside, at and past every edge, in every field a door reads: the hub never traps,
/// refuses what it cannot use, and goes on answering.
@Suite(.timeLimit(.minutes(1)))
struct ExtremeNumbersTests {
    static let selfID: Int64 = 3_847_291_056
    /// Written into JSON as they are: integers past Int64, floats past Double, negatives, fractions,
    /// numbers as strings, nulls.
    static let numbers = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999",
        "1e300", "-1e300", "1e400", "-1e400", "1.5", "-0", "0", "-1", "4.9e-324", "\"12abc\"", "\"\"", "null", "true", "[]", "{}",
    ]

    /// Each field of a message event and of a heartbeat takes each number; then a plain message
    /// still gets its answer.
    @Test func everyOneBotFieldTakesEveryNumber() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), onebot: "  reply_wait: 0.2",
                chat: "  rate_limit: { per_user: \"off\", per_group: \"off\" }")
            try await TestHub.run(configuration) { port, client in
                let bot = FakeOneBot(selfID: Self.selfID)
                let connection = Task { try await bot.connect(port: port) }
                defer { bot.disconnect(); connection.cancel() }
                try await bot.waitUntilConnected()
                for number in Self.numbers {
                    for field in ["self_id", "user_id", "message_id", "time", "font"] {
                        bot.send(Self.privateMessage(replacing: field, with: number, messageID: 7))
                    }
                    for field in ["group_id", "user_id", "message_id"] {
                        bot.send(Self.groupMessage(replacing: field, with: number))
                    }
                    bot.send(
                        #"{"time":1717000005,"self_id":\#(Self.selfID),"post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":\#(number)}"#
                    )
                    // An action response nobody asked for, with the number in every field.
                    bot.send(#"{"status":"ok","retcode":\#(number),"data":{"message_id":\#(number)},"echo":\#(number)}"#)
                }
                // Still up and answering (the number events with a usable user id got answers too).
                bot.send(OneBotFrames.privateMessage(selfID: Self.selfID, user: 42, messageID: 424_242, text: "still there?"))
                try await eventually("the answer after the numbers", timeout: .seconds(20)) {
                    bot.actions.contains { $0.messageText == "echo: still there?" }
                }
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    /// `X-Self-ID` past Int64 or not a number: 400, and the hub goes on.
    @Test func anHTTPCallbackWithAnImpossibleSelfIDIsRefused() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            for selfID in ["99999999999999999999", "-99999999999999999999", "1e3", "0x10", " ", "3847291056abc"] {
                let body = OneBotFrames.privateMessage(selfID: Self.selfID, user: 1, messageID: 1, text: "x").compactJSON
                let status = try await SignedCallback.post(port: port, selfID: selfID, body: body)
                #expect(status == HTTPResponseStatus.badRequest.code, "X-Self-ID \(selfID)")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// Web chat frames with each number as id and text: refused with an error frame or answered.
    @Test func webChatFramesTakeEveryNumber() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), extra: "web: { rate_limit: \"off\" }")
            try await TestHub.run(configuration) { port, client in
                let (chat, task) = WebChatClient.connect(port: port, path: "/ws/chat/numbers")
                defer {
                    chat.close()
                    task.cancel()
                }
                try await chat.history()
                for number in Self.numbers {
                    chat.send(#"{"type":"message","id":\#(number),"text":"n"}"#)
                    chat.send(#"{"type":"message","id":"ok","text":\#(number)}"#)
                }
                chat.send(#"{"type":"message","id":"last","text":"still there?"}"#)
                try await chat.frame("done", id: "last", timeout: .seconds(20))
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    /// The OpenAI door: each number in each numeric parameter gets 200 or OpenAI's 400, never a trap.
    @Test func openAIParametersTakeEveryNumber() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                for parameter in ["max_tokens", "max_completion_tokens", "n", "temperature", "top_p", "presence_penalty", "seed"] {
                    for number in Self.numbers {
                        let body = #"{"model":"model-a","messages":[{"role":"user","content":"hi"}],"\#(parameter)":\#(number)}"#
                        try await client.execute(
                            uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
                        ) { response in
                            #expect([.ok, .badRequest].contains(response.status), "\(parameter): \(number) → \(response.status)")
                        }
                    }
                }
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    /// Integer settings past 2^40 (and rates past a billion) are refused by name instead of
    /// overflowing later (turns × 2, seconds × 1000).
    @Test(arguments: [
        ("chat: { history: { max_turns: 9223372036854775807 } }", "chat.history.max_turns"),
        ("server: { port: 99999999999999999999 }", "server.port"),
        ("lanes: { realtime: { max_concurrent: 2000000000000, queue: 8 } }", "lanes.realtime.max_concurrent"),
        ("chat: { rate_limit: { per_user: \"9223372036854775807/1s\" } }", "chat.rate_limit.per_user"),
        ("web: { max_message_bytes: -9223372036854775808 }", "web.max_message_bytes"),
    ])
    func anImpossibleIntegerSettingIsRefusedByName(yaml: String, path: String) throws {
        #expect {
            _ = try HubConfiguration.parse(yaml: yaml, environment: [:])
        } throws: { error in
            "\(error)".contains(path)
        }
    }

    static func privateMessage(replacing field: String, with number: String, messageID: Int64) -> String {
        let fields: [(String, String)] = [
            ("time", "1717000000"), ("self_id", "\(selfID)"), ("post_type", "\"message\""), ("message_type", "\"private\""),
            ("sub_type", "\"friend\""), ("message_id", "\(messageID)"), ("user_id", "1049382716"),
            ("message", #"[{"type":"text","data":{"text":"numbers"}}]"#), ("raw_message", "\"numbers\""), ("font", "0"),
            ("sender", #"{"user_id":1049382716,"nickname":"Bob"}"#),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.0 == field ? number : $0.1)" }.joined(separator: ",") + "}"
    }

    static func groupMessage(replacing field: String, with number: String) -> String {
        let fields: [(String, String)] = [
            ("time", "1717000001"), ("self_id", "\(selfID)"), ("post_type", "\"message\""), ("message_type", "\"group\""),
            ("sub_type", "\"normal\""), ("message_id", "11"), ("group_id", "736251904"), ("user_id", "1049382716"),
            ("message", #"[{"type":"at","data":{"qq":"\#(selfID)"}},{"type":"text","data":{"text":" numbers"}}]"#), ("font", "0"),
            ("sender", #"{"user_id":1049382716,"nickname":"Bob","role":"member"}"#),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.0 == field ? number : $0.1)" }.joined(separator: ",") + "}"
    }
}
