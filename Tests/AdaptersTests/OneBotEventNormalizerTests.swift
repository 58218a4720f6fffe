// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Adapters

private let bot: Int64 = 2_837_465_019

private func event(_ json: String) throws -> OneBotEvent {
    try OneBotEvent(json: try JSONValue(parsing: json))
}

/// A group message from user 1357924680 in group 915273648 whose `message` is `message` (JSON text).
private func groupMessage(_ message: String, sender: String = #"{"user_id":1357924680,"nickname":"Carol","card":"","role":"member"}"#)
    throws -> OneBotEvent
{
    try event(
        #"{"time":1718700000,"self_id":2837465019,"post_type":"message","message_type":"group","sub_type":"normal","message_id":-1834013272,"group_id":915273648,"user_id":1357924680,"message":\#(message),"sender":\#(sender)}"#
    )
}

/// The content the normalizer makes of a group message with `message`.
private func content(_ message: String) throws -> [Segment] {
    let normalized = try #require(OneBotEventNormalizer.conversationEvent(from: try groupMessage(message), selfID: bot))
    return normalized.content
}

// MARK: Scope and sender

@Suite struct OneBotNormalizerScopeTests {
    @Test func privateMessage() throws {
        let received = Date(timeIntervalSince1970: 1_718_700_000)
        let decoded = try event(
            """
            {"time":1718700001,"self_id":2837465019,"post_type":"message","message_type":"private","sub_type":"friend",
             "message_id":-1834013271,"user_id":1357924680,"message":[{"type":"text","data":{"text":"hello"}}],
             "sender":{"user_id":1357924680,"nickname":"Carol","sex":"female","age":0}}
            """)
        let normalized = try #require(OneBotEventNormalizer.conversationEvent(from: decoded, selfID: bot, receivedAt: received))
        #expect(normalized.platform == .qq)
        #expect(normalized.botID == "2837465019")
        #expect(normalized.scope == .private(user: "1357924680"))
        #expect(normalized.sender == Sender(id: "1357924680", name: "Carol", role: nil))
        #expect(normalized.content == [.text("hello")])
        #expect(normalized.platformMessageID == "-1834013271")
        #expect(normalized.id == decoded.deduplicationKey(bot: bot))
        #expect(normalized.receivedAt == received)
    }

    @Test func groupMessageHasGroupScope() throws {
        let normalized = try #require(
            OneBotEventNormalizer.conversationEvent(from: try groupMessage(#""ping""#), selfID: bot))
        #expect(normalized.scope == .group(group: "915273648", user: "1357924680"))
        #expect(normalized.scope.group == "915273648")
        #expect(normalized.platformMessageID == "-1834013272")
        #expect(normalized.content == [.text("ping")])
    }

    @Test func idsGivenAsStringsGiveTheSameEvent() throws {
        let asStrings = try event(
            #"{"time":"1718700000","self_id":"2837465019","post_type":"message","message_type":"group","message_id":"-1834013272","group_id":"915273648","user_id":"1357924680","message":"ping","sender":{"user_id":"1357924680","nickname":"Carol","card":"","role":"member"}}"#
        )
        let fromStrings = OneBotEventNormalizer.conversationEvent(from: asStrings, selfID: bot, receivedAt: .distantPast)
        let fromNumbers = OneBotEventNormalizer.conversationEvent(from: try groupMessage(#""ping""#), selfID: bot, receivedAt: .distantPast)
        #expect(fromStrings != nil)
        #expect(fromStrings == fromNumbers)
    }

    @Test func senderNameIsTheCardElseTheNickname() throws {
        let withCard = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol","card":"Captain","role":"admin"}"#)
        let emptyCard = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol","card":"","role":"admin"}"#)
        let noCard = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol"}"#)
        let nothing = try groupMessage(#""x""#, sender: #"{}"#)
        #expect(OneBotEventNormalizer.conversationEvent(from: withCard, selfID: bot)?.sender.name == "Captain")
        #expect(OneBotEventNormalizer.conversationEvent(from: emptyCard, selfID: bot)?.sender.name == "Carol")
        #expect(OneBotEventNormalizer.conversationEvent(from: noCard, selfID: bot)?.sender.name == "Carol")
        #expect(OneBotEventNormalizer.conversationEvent(from: nothing, selfID: bot)?.sender.name == "")
    }

    @Test(arguments: [Sender.Role.owner, .admin, .member])
    func senderRole(role: Sender.Role) throws {
        let decoded = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol","role":"\#(role.rawValue)"}"#)
        #expect(OneBotEventNormalizer.conversationEvent(from: decoded, selfID: bot)?.sender.role == role)
    }

    @Test func unknownOrMissingRoleIsNil() throws {
        let unknown = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol","role":"superadmin"}"#)
        let missing = try groupMessage(#""x""#, sender: #"{"user_id":1357924680,"nickname":"Carol"}"#)
        let event1 = try #require(OneBotEventNormalizer.conversationEvent(from: unknown, selfID: bot))
        let event2 = try #require(OneBotEventNormalizer.conversationEvent(from: missing, selfID: bot))
        #expect(event1.sender.role == nil)
        #expect(event2.sender.role == nil)
    }
}

// MARK: Segments

@Suite struct OneBotNormalizerSegmentTests {
    @Test func textAndMentions() throws {
        let segments = try content(
            #"[{"type":"at","data":{"qq":"2837465019"}},{"type":"text","data":{"text":" roll "}},{"type":"at","data":{"qq":1122334455}},{"type":"at","data":{"qq":"all"}}]"#
        )
        #expect(segments == [.mention("2837465019"), .text(" roll "), .mention("1122334455"), .mention("all")])
    }

    @Test func replyBecomesAQuoteWithItsNegativeID() throws {
        #expect(try content(#"[{"type":"reply","data":{"id":"-1834013271"}},{"type":"text","data":{"text":"yes"}}]"#)
            == [.quote("-1834013271"), .text("yes")])
        #expect(try content(#"[{"type":"reply","data":{"id":-1834013271}},{"type":"text","data":{"text":"yes"}}]"#)
            == [.quote("-1834013271"), .text("yes")])
    }

    @Test func imagePrefersItsURL() throws {
        let withURL = try content(
            #"[{"type":"image","data":{"file":"5F3A.image","url":"https://multimedia.example/5F3A","sub_type":0}}]"#)
        let fileOnly = try content(#"[{"type":"image","data":{"file":"https://cdn.example/cat.png"}}]"#)
        #expect(withURL == [.image(.url("https://multimedia.example/5F3A"))])
        #expect(fileOnly == [.image(.url("https://cdn.example/cat.png"))])
    }

    /// A record's `file` names it for `get_record` (which converts QQ's SILK to WAV); its `url`
    /// comes along for implementations without that action. A `file` that is itself base64 or a URL
    /// is taken as it is.
    @Test func recordKeepsItsFileForGetRecordAndItsURL() throws {
        let withURL = try content(#"[{"type":"record","data":{"file":"voice.amr","url":"https://voice.example/voice.amr"}}]"#)
        let fileOnly = try content(#"[{"type":"record","data":{"file":"voice.amr"}}]"#)
        let inline = try content(#"[{"type":"record","data":{"file":"base64://UklGRg=="}}]"#)
        let remote = try content(#"[{"type":"record","data":{"file":"https://voice.example/a.mp3"}}]"#)
        let urlOnly = try content(#"[{"type":"record","data":{"url":"https://voice.example/b.mp3"}}]"#)
        #expect(withURL == [.audio(.platformFile(id: "voice.amr", url: "https://voice.example/voice.amr"))])
        #expect(fileOnly == [.audio(.platformFile(id: "voice.amr", url: nil))])
        #expect(inline == [.audio(.url("base64://UklGRg=="))])
        #expect(remote == [.audio(.url("https://voice.example/a.mp3"))])
        #expect(urlOnly == [.audio(.url("https://voice.example/b.mp3"))])
    }

    @Test func otherSegmentsStayUnknownWithTheirData() throws {
        let segments = try content(
            """
            [{"type":"face","data":{"id":"178"}},{"type":"mface","data":{"emoji_id":"abc","summary":"[wave]","key":"k1"}},
             {"type":"json","data":{"data":{"app":"com.example.card","ver":"1.0"}}},{"type":"dice","data":{"result":4}},
             {"type":"shake","data":null}]
            """)
        #expect(
            segments == [
                .unknown(type: "face", data: ["id": "178"]),
                .unknown(type: "mface", data: ["emoji_id": "abc", "summary": "[wave]", "key": "k1"]),
                .unknown(type: "json", data: ["data": ["app": "com.example.card", "ver": "1.0"]]),
                .unknown(type: "dice", data: ["result": 4]),
                .unknown(type: "shake", data: [:]),
            ])
    }

    @Test func cqStringSegmentsAreNormalizedToo() throws {
        let segments = try content(#""[CQ:face,id=178]hi [CQ:image,file=a.jpg,url=https://i.example/a.jpg&#44;b]""#)
        #expect(segments == [.unknown(type: "face", data: ["id": "178"]), .text("hi "), .image(.url("https://i.example/a.jpg,b"))])
    }
}

// MARK: The automatic @ after a reply

@Suite struct OneBotNormalizerReplyAtTests {
    @Test func autoMentionAfterALeadingReplyIsDropped() throws {
        let array = try content(
            #"[{"type":"reply","data":{"id":"-5"}},{"type":"at","data":{"qq":"1122334455"}},{"type":"text","data":{"text":" agreed"}}]"#)
        let string = try content(#""[CQ:reply,id=-5][CQ:at,qq=1122334455] agreed""#)
        #expect(array == [.quote("-5"), .text(" agreed")])
        #expect(string == array)
    }

    @Test func autoMentionAfterWhitespaceIsDroppedWithTheWhitespace() throws {
        let segments = try content(
            #"[{"type":"reply","data":{"id":"7"}},{"type":"text","data":{"text":" "}},{"type":"at","data":{"qq":1122334455}},{"type":"text","data":{"text":"ok"}}]"#
        )
        #expect(segments == [.quote("7"), .text("ok")])
    }

    @Test func mentionOfTheBotAfterAReplyIsKept() throws {
        let segments = try content(#""[CQ:reply,id=8][CQ:at,qq=2837465019] you said this""#)
        #expect(segments == [.quote("8"), .mention("2837465019"), .text(" you said this")])
        let numeric = try content(
            #"[{"type":"reply","data":{"id":"8"}},{"type":"at","data":{"qq":2837465019}},{"type":"text","data":{"text":"!"}}]"#)
        #expect(numeric == [.quote("8"), .mention("2837465019"), .text("!")])
    }

    @Test func onlyTheFirstMentionAfterTheReplyIsDropped() throws {
        let segments = try content(#""[CQ:reply,id=9][CQ:at,qq=1122334455][CQ:at,qq=5544332211] look""#)
        #expect(segments == [.quote("9"), .mention("5544332211"), .text(" look")])
    }

    @Test func mentionsWithoutALeadingReplyAreKept() throws {
        #expect(try content(#""[CQ:at,qq=1122334455] hi""#) == [.mention("1122334455"), .text(" hi")])
        #expect(try content(#""hey [CQ:reply,id=10][CQ:at,qq=1122334455]""#)
            == [.text("hey "), .quote("10"), .mention("1122334455")])
        #expect(try content(#""[CQ:reply,id=11]look [CQ:at,qq=1122334455]""#)
            == [.quote("11"), .text("look "), .mention("1122334455")])
    }
}

// MARK: Events that are not conversation messages

@Suite struct OneBotNormalizerRejectionTests {
    @Test(arguments: [
        // The bot's own message.
        #"{"time":1,"self_id":2837465019,"post_type":"message_sent","message_type":"group","message_id":1,"group_id":915273648,"user_id":2837465019,"message":"mine"}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"message_sent","message_type":"private","message_id":1,"user_id":2837465019,"target_id":1357924680,"message":"mine"}"#,
        // Notices, requests, meta events, unknown post types.
        #"{"time":1,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"poke","group_id":915273648,"user_id":1357924680,"target_id":2837465019}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"notice","notice_type":"group_recall","group_id":915273648,"user_id":1357924680,"operator_id":1357924680,"message_id":5}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"request","request_type":"friend","user_id":1357924680,"comment":"hi","flag":"f1"}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":5000}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"lifecycle","sub_type":"connect"}"#,
        #"{"time":1,"self_id":2837465019,"post_type":"message_reaction","user_id":1357924680,"message":"x"}"#,
        // A group message without its group: never answered in private instead.
        #"{"time":1,"self_id":2837465019,"post_type":"message","message_type":"group","message_id":7,"user_id":1357924680,"message":"hi"}"#,
        // A message without a user.
        #"{"time":1,"self_id":2837465019,"post_type":"message","message_type":"group","message_id":1,"group_id":915273648,"message":"who?"}"#,
    ])
    func noConversationEvent(json: String) throws {
        #expect(OneBotEventNormalizer.conversationEvent(from: try event(json), selfID: bot) == nil)
    }
}
