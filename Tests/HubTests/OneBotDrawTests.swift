// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HummingbirdTesting
import Testing

@testable import Hub

/// `/draw` over a real OneBot WebSocket: the acknowledgement with the queue position comes first,
/// then the picture as its own message (an `image` segment with `base64://` data), quoted and
/// mentioned in a group; a failed job and a hub without generators are said in words.
@Suite(.timeLimit(.minutes(1)))
struct OneBotDrawTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716
    let group: Int64 = 736_251_904

    /// A hub whose image providers are `providers` of `service`, and a bot connected to it.
    func withDrawingBot(
        _ service: FakeImageService, providers: [(name: String, behaviour: String)], image: [String] = [],
        _ body: @escaping @Sendable (FakeOneBot, Int) async throws -> Void
    ) async throws {
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: providers, image: image)
            try await TestHub.run(configuration) { port, _ in
                let bot = FakeOneBot(selfID: selfID)
                try await bot.whileConnected(port: port) { try await body(bot, port) }
            }
        }
    }

    @Test func aPrivateDrawIsAcknowledgedThenThePictureArrives() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: [("good", "ok")]) { bot, _ in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 501, text: "/draw a red kite"))
            let ack = try await bot.action(0)
            #expect(ack["action"] == "send_msg")
            #expect(ack["params"]?["message_type"] == "private" && ack["params"]?["user_id"] == .int(user))
            #expect(ack.messageText.contains("“a red kite”") && ack.messageText.contains("next in line"), "\(ack.messageText)")
            #expect(!ack.messageTypes.contains("image"))

            let caption = try await bot.action(1)
            #expect(caption.messageText == "Here is “a red kite”:", "\(caption.compactJSON.prefix(300))")
            let picture = try await bot.action(2)
            #expect(picture["action"] == "send_msg" && picture["params"]?["user_id"] == .int(user))
            #expect(picture.messageTypes == ["image"], "\(picture.compactJSON.prefix(300))")
            #expect(Self.pictureBytes(picture) == FakeImageService.png(for: "a red kite"))
            #expect(service.requests.map(\.prompt) == ["a red kite"])
        }
    }

    @Test func theAcknowledgementSaysThePlaceInTheQueue() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: [("good", "ok")]) { bot, _ in
            service.hold()
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 601, text: "/draw kite one"))
            #expect(try await bot.action(0).messageText.contains("next in line"))
            try await service.waitForRequest("kite one")
            // Kite one runs; kite two waits first in line, kite three second.
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 602, text: "/draw kite two"))
            #expect(try await bot.action(1).messageText.contains("next in line"))
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 603, text: "/画 kite three"))
            let third = try await bot.action(2).messageText
            #expect(third.contains("number 2 in the queue") && third.contains("kite three"), "\(third)")
            service.release()
            _ = try await bot.action(8)
            let pictures = bot.actions.filter { $0.messageTypes == ["image"] }.compactMap(Self.pictureBytes)
            #expect(pictures == ["kite one", "kite two", "kite three"].map(FakeImageService.png(for:)), "delivered in queue order")
            #expect(bot.actions.map(\.messageText).filter { $0.hasPrefix("Here is") }.count == 3)
        }
    }

    @Test func aGroupDrawIsQuotedAndMentioned() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: [("good", "ok")]) { bot, _ in
            bot.send(OneBotFrames.groupMessage(selfID: selfID, group: group, user: user, messageID: -7001, message: .string("/draw a blue boat")))
            let ack = try await bot.action(0)
            #expect(ack["params"]?["message_type"] == "group" && ack["params"]?["group_id"] == .int(group))
            #expect(ack.messageTypes == ["reply", "at", "text"], "\(ack.compactJSON)")
            #expect(ack.messageText.contains("a blue boat"))

            let caption = try await bot.action(1)
            #expect(caption["params"]?["group_id"] == .int(group))
            #expect(caption.messageTypes == ["reply", "at", "text"], "\(caption.compactJSON)")
            let segments = caption["params"]?["message"]?.arrayValue ?? []
            #expect(segments.first?["data"]?["id"] == "-7001")
            #expect(segments.dropFirst().first?["data"]?["qq"] == .string(String(user)))
            #expect(caption.messageText.contains("Here is “a blue boat”:"))
            let picture = try await bot.action(2)
            #expect(picture["params"]?["message_type"] == "group" && picture["params"]?["group_id"] == .int(group))
            #expect(picture.messageTypes == ["image"])
            #expect(Self.pictureBytes(picture) == FakeImageService.png(for: "a blue boat"))
        }
    }

    @Test func aFailedDrawIsSaidInWords() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: [("broken", "fail")], image: ["job_attempts: 2"]) { bot, _ in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 801, text: "/draw a doomed kite"))
            #expect(try await bot.action(0).messageText.contains("next in line"))
            let failure = try await bot.action(1, timeout: .seconds(10))
            #expect(failure.messageText.contains("couldn't draw “a doomed kite”"), "\(failure.messageText)")
            #expect(failure.messageTypes == ["text"])
            #expect(service.count("a doomed kite") == 2, "every attempt went upstream")
        }
    }

    @Test func withoutGeneratorsDrawIsNotAvailable() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: []) { bot, _ in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 901, text: "/draw a kite"))
            let answer = try await bot.action(0).messageText
            #expect(answer.contains("not available"), "\(answer)")
            // A marker behind it in the same session: nothing else came for the draw.
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 902, text: "/draw"))
            #expect(try await bot.action(1).messageText.contains("not available"))
            #expect(bot.actions.count == 2)
            #expect(service.requests.isEmpty)
        }
    }

    @Test func drawWithoutAPromptAsksForOne() async throws {
        let service = FakeImageService()
        try await withDrawingBot(service, providers: [("good", "ok")]) { bot, _ in
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 911, text: "/draw   "))
            let answer = try await bot.action(0).messageText
            #expect(answer.contains("Tell me what to draw"), "\(answer)")
            // The marker: a real draw behind it in the same session is answered next.
            bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: 912, text: "/draw a marker kite"))
            #expect(try await bot.action(1).messageText.contains("a marker kite"))
            _ = try await bot.action(3)
            #expect(service.requests.map(\.prompt) == ["a marker kite"])
        }
    }

    /// The bytes of an action's `image` segment with `base64://` data.
    static func pictureBytes(_ action: JSONValue) -> [UInt8]? {
        guard let file = action["params"]?["message"]?.arrayValue?.first(where: { $0["type"] == "image" })?["data"]?["file"]?.stringValue,
            file.hasPrefix("base64://"), let data = Data(base64Encoded: String(file.dropFirst("base64://".count)))
        else { return nil }
        return Array(data)
    }
}
