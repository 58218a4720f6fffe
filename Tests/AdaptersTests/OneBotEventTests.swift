// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Adapters

// MARK: Helpers

/// Parses `json` and decodes it as an event.
private func event(_ json: String) throws -> OneBotEvent {
    try OneBotEvent(json: try JSONValue(parsing: json))
}

private func segment(_ type: String, _ data: KeyValuePairs<String, JSONValue> = [:]) -> OneBotSegment {
    OneBotSegment(type: type, data: data.map { ($0.key, $0.value) })
}

/// One notice from ONEBOT11.md §3.3, with what decoding must find in it.
struct NoticeSample: Sendable, CustomTestStringConvertible {
    let json: String
    let noticeType: String
    let subType: String?
    let userID: Int64?
    let groupID: Int64?
    /// A field beyond the common ones that must survive in `raw`.
    let extraKey: String
    let extraValue: JSONValue

    var testDescription: String { "\(noticeType)/\(subType ?? "-")" }
}

// MARK: Message events (§3.2)

@Suite struct OneBotMessageEventTests {
    @Test func privateMessageInArrayFormat() throws {
        let decoded = try event(
            """
            {"time":1718100000,"self_id":2837465019,"post_type":"message","message_type":"private","sub_type":"friend",
             "message_id":-1122334455,"user_id":1357924680,"font":0,"raw_message":"hey [CQ:face,id=14]",
             "message":[{"type":"text","data":{"text":"hey "}},{"type":"face","data":{"id":"14"}}],
             "sender":{"user_id":1357924680,"nickname":"Carol","sex":"female","age":23}}
            """)
        #expect(decoded.postType == "message")
        #expect(decoded.detailType == "private")
        #expect(decoded.subType == "friend")
        #expect(decoded.time == 1_718_100_000)
        #expect(decoded.selfID == 2_837_465_019)
        #expect(decoded.userID == 1_357_924_680)
        #expect(decoded.groupID == nil)
        #expect(decoded.messageID == -1_122_334_455)
        #expect(decoded.message == [.text("hey "), segment("face", ["id": "14"])])
        #expect(decoded.sender?["nickname"] == "Carol")
        #expect(decoded.isInboundMessage)
    }

    @Test func groupMessageInStringFormatIsParsedAsCQCodes() throws {
        let decoded = try event(
            """
            {"time":1718100001,"self_id":2837465019,"post_type":"message","message_type":"group","sub_type":"normal",
             "message_id":77031,"group_id":915273648,"user_id":1357924680,"anonymous":null,
             "message":"[CQ:at,qq=2837465019] roll &#91;d20&#93;&amp;go","raw_message":"[CQ:at,qq=2837465019] roll &#91;d20&#93;&amp;go",
             "font":0,"sender":{"user_id":1357924680,"nickname":"Carol","card":"Captain","sex":"unknown","age":0,
             "area":"","level":"7","role":"admin","title":""}}
            """)
        #expect(decoded.detailType == "group")
        #expect(decoded.subType == "normal")
        #expect(decoded.groupID == 915_273_648)
        #expect(decoded.messageID == 77031)
        #expect(decoded.message == [segment("at", ["qq": "2837465019"]), .text(" roll [d20]&go")])
        #expect(decoded.sender?["card"] == "Captain")
        #expect(decoded.sender?["level"] == "7")
        #expect(decoded.raw["anonymous"] == .null)
    }

    @Test func groupMessageInArrayFormatKeepsNumericSegmentValues() throws {
        let decoded = try event(
            """
            {"time":1718100002,"self_id":2837465019,"post_type":"message","message_type":"group","sub_type":"normal",
             "message_id":-5,"group_id":915273648,"user_id":1357924680,"message_format":"array","group_name":"Dice club",
             "message":[{"type":"at","data":{"qq":2837465019}},{"type":"text","data":{"text":" hi"}}],
             "raw_message":"[CQ:at,qq=2837465019] hi","font":14,"sender":{"user_id":1357924680,"nickname":"Carol","card":"","role":"member"}}
            """)
        #expect(decoded.message == [segment("at", ["qq": 2_837_465_019]), .text(" hi")])
        #expect(decoded.raw["group_name"] == "Dice club")
        #expect(decoded.raw["message_format"] == "array")
    }

    @Test func arrayMessageIsNeverReadAsCQCodesAndRawMessageIsIgnored() throws {
        let decoded = try event(
            """
            {"time":1718100003,"self_id":2837465019,"post_type":"message","message_type":"group","message_id":1,
             "group_id":915273648,"user_id":1357924680,
             "message":[{"type":"text","data":{"text":"[CQ:at,qq=all] not a code"}}],
             "raw_message":"[CQ:face,id=1]"}
            """)
        #expect(decoded.message == [.text("[CQ:at,qq=all] not a code")])
    }

    @Test func singleSegmentObjectMessage() throws {
        let decoded = try event(
            """
            {"time":1718100004,"self_id":2837465019,"post_type":"message","message_type":"private","message_id":9,
             "user_id":1357924680,"message":{"type":"image","data":{"file":"abc.jpg","url":"https://img.example/abc.jpg"}}}
            """)
        #expect(decoded.message == [segment("image", ["file": "abc.jpg", "url": "https://img.example/abc.jpg"])])
    }

    @Test func missingOrOddMessageGivesNoSegments() throws {
        let missing = try event(#"{"time":1,"self_id":1,"post_type":"message","message_type":"private","user_id":2,"message_id":3}"#)
        #expect(missing.message.isEmpty)
        let number = try event(#"{"time":1,"self_id":1,"post_type":"message","message_type":"private","user_id":2,"message":42}"#)
        #expect(number.message.isEmpty)
    }

    @Test func missingAnonymousIsFine() throws {
        let decoded = try event(
            """
            {"time":1718100005,"self_id":2837465019,"post_type":"message","message_type":"group","sub_type":"normal",
             "message_id":31,"group_id":915273648,"user_id":1357924680,"message":"plain"}
            """)
        #expect(decoded.raw.objectValue?.keys.contains("anonymous") == false)
        #expect(decoded.message == [.text("plain")])
        #expect(decoded.groupID == 915_273_648)
    }

    @Test func anonymousSenderIsKeptInRaw() throws {
        let decoded = try event(
            """
            {"time":1718100006,"self_id":2837465019,"post_type":"message","message_type":"group","sub_type":"anonymous",
             "message_id":32,"group_id":915273648,"user_id":80000000,
             "anonymous":{"id":5566778899,"name":"Masked","flag":"Masked|5566778899"},"message":"boo"}
            """)
        #expect(decoded.subType == "anonymous")
        #expect(decoded.raw["anonymous"]?["flag"] == "Masked|5566778899")
        #expect(decoded.raw["anonymous"]?["id"]?.int64Value == 5_566_778_899)
    }

    @Test func messageSentIsDecodedButNotInbound() throws {
        let decoded = try event(
            """
            {"time":1718100007,"self_id":2837465019,"post_type":"message_sent","message_type":"group","sub_type":"normal",
             "message_sent_type":"self","message_id":-42,"group_id":915273648,"user_id":2837465019,
             "message":[{"type":"text","data":{"text":"my own words"}}],"raw_message":"my own words"}
            """)
        #expect(decoded.postType == "message_sent")
        #expect(decoded.detailType == "group")
        #expect(decoded.userID == decoded.selfID)
        #expect(decoded.messageID == -42)
        #expect(decoded.message == [.text("my own words")])
        #expect(!decoded.isInboundMessage)
    }
}

// MARK: Ids and time (§3.1)

@Suite struct OneBotEventFieldTests {
    @Test func idsAsDecimalStringsBecomeInt64() throws {
        let decoded = try event(
            """
            {"time":"1718100010","self_id":"2837465019","post_type":"message","message_type":"group",
             "message_id":"-1834013272","group_id":"915273648","user_id":"1357924680","message":"x"}
            """)
        #expect(decoded.time == 1_718_100_010)
        #expect(decoded.selfID == 2_837_465_019)
        #expect(decoded.messageID == -1_834_013_272)
        #expect(decoded.groupID == 915_273_648)
        #expect(decoded.userID == 1_357_924_680)
    }

    @Test(arguments: [
        ("-2147483648", Int64(Int32.min)),
        ("2147483647", Int64(Int32.max)),
        ("-1", -1),
        ("0", 0),
    ])
    func negativeAndExtremeInt32MessageIDs(text: String, expected: Int64) throws {
        let asNumber = try event(#"{"time":1,"self_id":1,"post_type":"message","message_type":"private","user_id":2,"message_id":\#(text)}"#)
        let asString = try event(#"{"time":1,"self_id":1,"post_type":"message","message_type":"private","user_id":2,"message_id":"\#(text)"}"#)
        #expect(asNumber.messageID == expected)
        #expect(asString.messageID == expected)
    }

    @Test func qqNumbersBeyondInt32() throws {
        let decoded = try event(
            """
            {"time":1718100011,"self_id":4294967296,"post_type":"message","message_type":"group","message_id":1,
             "group_id":98765432109,"user_id":3999999999,"message":"big"}
            """)
        #expect(decoded.selfID == 4_294_967_296)
        #expect(decoded.groupID == 98_765_432_109)
        #expect(decoded.userID == 3_999_999_999)
    }

    @Test(arguments: [
        (Int64(1_718_100_012_345), Int64(1_718_100_012)),  // NapCat's Date.now() fallback
        (1_718_100_012, 1_718_100_012),  // seconds stay seconds
        (100_000_000_000, 100_000_000_000),  // 10^11 itself is not above 10^11
        (100_000_000_001, 100_000_000),
    ])
    func millisecondTimesBecomeSeconds(time: Int64, seconds: Int64) throws {
        let decoded = try event(#"{"time":\#(time),"self_id":1,"post_type":"meta_event","meta_event_type":"heartbeat"}"#)
        #expect(decoded.time == seconds)
    }

    @Test func missingTimeIsZero() throws {
        let decoded = try event(#"{"self_id":1,"post_type":"notice","notice_type":"friend_add","user_id":5}"#)
        #expect(decoded.time == 0)
    }

    @Test func trailingNewlineFromGoCQHTTPIsTolerated() throws {
        let decoded = try event("{\"time\":1,\"self_id\":1,\"post_type\":\"meta_event\",\"meta_event_type\":\"heartbeat\"}\n")
        #expect(decoded.detailType == "heartbeat")
    }
}

// MARK: Notice events (§3.3)

@Suite struct OneBotNoticeEventTests {
    static let samples: [NoticeSample] = [
        NoticeSample(
            json: """
                {"time":1718200000,"self_id":2837465019,"post_type":"notice","notice_type":"group_upload","group_id":915273648,
                 "user_id":1357924680,"file":{"id":"/a1b2-c3d4","name":"notes.pdf","size":5368709120,"busid":102}}
                """,
            noticeType: "group_upload", subType: nil, userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "file", extraValue: ["id": "/a1b2-c3d4", "name": "notes.pdf", "size": 5_368_709_120, "busid": 102]),
        NoticeSample(
            json: """
                {"time":1718200001,"self_id":2837465019,"post_type":"notice","notice_type":"group_admin","sub_type":"set",
                 "group_id":915273648,"user_id":1357924680}
                """,
            noticeType: "group_admin", subType: "set", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "group_id", extraValue: 915_273_648),
        NoticeSample(
            json: """
                {"time":1718200002,"self_id":2837465019,"post_type":"notice","notice_type":"group_admin","sub_type":"unset",
                 "group_id":915273648,"user_id":1357924680}
                """,
            noticeType: "group_admin", subType: "unset", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "sub_type", extraValue: "unset"),
        NoticeSample(
            json: """
                {"time":1718200003,"self_id":2837465019,"post_type":"notice","notice_type":"group_decrease","sub_type":"leave",
                 "group_id":915273648,"operator_id":1357924680,"user_id":1357924680}
                """,
            noticeType: "group_decrease", subType: "leave", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: 1_357_924_680),
        NoticeSample(
            json: """
                {"time":1718200004,"self_id":2837465019,"post_type":"notice","notice_type":"group_decrease","sub_type":"kick",
                 "group_id":915273648,"operator_id":2468013579,"user_id":1357924680}
                """,
            noticeType: "group_decrease", subType: "kick", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: 2_468_013_579),
        NoticeSample(
            json: """
                {"time":1718200005,"self_id":2837465019,"post_type":"notice","notice_type":"group_decrease","sub_type":"kick_me",
                 "group_id":915273648,"operator_id":2468013579,"user_id":2837465019}
                """,
            noticeType: "group_decrease", subType: "kick_me", userID: 2_837_465_019, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: 2_468_013_579),
        NoticeSample(
            json: """
                {"time":1718200006,"self_id":2837465019,"post_type":"notice","notice_type":"group_increase","sub_type":"approve",
                 "group_id":915273648,"operator_id":2468013579,"user_id":1122334455}
                """,
            noticeType: "group_increase", subType: "approve", userID: 1_122_334_455, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: 2_468_013_579),
        NoticeSample(
            json: """
                {"time":1718200007,"self_id":2837465019,"post_type":"notice","notice_type":"group_increase","sub_type":"invite",
                 "group_id":915273648,"operator_id":"2468013579","user_id":"1122334455"}
                """,
            noticeType: "group_increase", subType: "invite", userID: 1_122_334_455, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: "2468013579"),
        NoticeSample(
            json: """
                {"time":1718200008,"self_id":2837465019,"post_type":"notice","notice_type":"group_ban","sub_type":"ban",
                 "group_id":915273648,"operator_id":2468013579,"user_id":1357924680,"duration":600}
                """,
            noticeType: "group_ban", subType: "ban", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "duration", extraValue: 600),
        NoticeSample(
            json: """
                {"time":1718200009,"self_id":2837465019,"post_type":"notice","notice_type":"group_ban","sub_type":"lift_ban",
                 "group_id":915273648,"operator_id":2468013579,"user_id":1357924680,"duration":0}
                """,
            noticeType: "group_ban", subType: "lift_ban", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "duration", extraValue: 0),
        // go-cqhttp's whole-group mute: user 0, duration -1.
        NoticeSample(
            json: """
                {"time":1718200010,"self_id":2837465019,"post_type":"notice","notice_type":"group_ban","sub_type":"ban",
                 "group_id":915273648,"operator_id":2468013579,"user_id":0,"duration":-1}
                """,
            noticeType: "group_ban", subType: "ban", userID: 0, groupID: 915_273_648,
            extraKey: "duration", extraValue: -1),
        NoticeSample(
            json: """
                {"time":1718200011,"self_id":2837465019,"post_type":"notice","notice_type":"friend_add","user_id":1122334455}
                """,
            noticeType: "friend_add", subType: nil, userID: 1_122_334_455, groupID: nil,
            extraKey: "user_id", extraValue: 1_122_334_455),
        NoticeSample(
            json: """
                {"time":1718200012,"self_id":2837465019,"post_type":"notice","notice_type":"group_recall","group_id":915273648,
                 "user_id":1357924680,"operator_id":2468013579,"message_id":-998877}
                """,
            noticeType: "group_recall", subType: nil, userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "operator_id", extraValue: 2_468_013_579),
        NoticeSample(
            json: """
                {"time":1718200013,"self_id":2837465019,"post_type":"notice","notice_type":"friend_recall","user_id":1357924680,
                 "message_id":-998878}
                """,
            noticeType: "friend_recall", subType: nil, userID: 1_357_924_680, groupID: nil,
            extraKey: "message_id", extraValue: -998_878),
        NoticeSample(
            json: """
                {"time":1718200014,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"poke",
                 "group_id":915273648,"user_id":1357924680,"target_id":2837465019}
                """,
            noticeType: "notify", subType: "poke", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "target_id", extraValue: 2_837_465_019),
        // A friend poke: no group_id; go-cqhttp adds sender_id.
        NoticeSample(
            json: """
                {"time":1718200015,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"poke",
                 "sender_id":1357924680,"user_id":1357924680,"target_id":2837465019}
                """,
            noticeType: "notify", subType: "poke", userID: 1_357_924_680, groupID: nil,
            extraKey: "sender_id", extraValue: 1_357_924_680),
        NoticeSample(
            json: """
                {"time":1718200016,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"lucky_king",
                 "group_id":915273648,"user_id":1357924680,"target_id":1122334455}
                """,
            noticeType: "notify", subType: "lucky_king", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "target_id", extraValue: 1_122_334_455),
        NoticeSample(
            json: """
                {"time":1718200017,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"honor",
                 "group_id":915273648,"user_id":1357924680,"honor_type":"emotion"}
                """,
            noticeType: "notify", subType: "honor", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "honor_type", extraValue: "emotion"),
        // go-cqhttp extensions.
        NoticeSample(
            json: """
                {"time":1718200018,"self_id":2837465019,"post_type":"notice","notice_type":"group_card","group_id":915273648,
                 "user_id":1357924680,"card_new":"Cap'n","card_old":"Captain"}
                """,
            noticeType: "group_card", subType: nil, userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "card_new", extraValue: "Cap'n"),
        NoticeSample(
            json: """
                {"time":1718200019,"self_id":2837465019,"post_type":"notice","notice_type":"offline_file","user_id":1357924680,
                 "file":{"name":"song.flac","size":31457280,"url":"https://files.example/song.flac"}}
                """,
            noticeType: "offline_file", subType: nil, userID: 1_357_924_680, groupID: nil,
            extraKey: "file", extraValue: ["name": "song.flac", "size": 31_457_280, "url": "https://files.example/song.flac"]),
        NoticeSample(
            json: """
                {"time":1718200020,"self_id":2837465019,"post_type":"notice","notice_type":"client_status",
                 "client":{"app_id":537000000,"device_name":"tablet","device_kind":"ipad"},"online":false}
                """,
            noticeType: "client_status", subType: nil, userID: nil, groupID: nil,
            extraKey: "online", extraValue: false),
        NoticeSample(
            json: """
                {"time":1718200021,"self_id":2837465019,"post_type":"notice","notice_type":"essence","sub_type":"add",
                 "group_id":915273648,"sender_id":1357924680,"operator_id":2468013579,"message_id":-31337}
                """,
            noticeType: "essence", subType: "add", userID: nil, groupID: 915_273_648,
            extraKey: "sender_id", extraValue: 1_357_924_680),
        NoticeSample(
            json: """
                {"time":1718200022,"self_id":2837465019,"post_type":"notice","notice_type":"essence","sub_type":"delete",
                 "group_id":915273648,"sender_id":1357924680,"operator_id":2468013579,"message_id":31337}
                """,
            noticeType: "essence", subType: "delete", userID: nil, groupID: 915_273_648,
            extraKey: "message_id", extraValue: 31337),
        NoticeSample(
            json: """
                {"time":1718200023,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"title",
                 "group_id":915273648,"user_id":1357924680,"title":"Dragon"}
                """,
            noticeType: "notify", subType: "title", userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "title", extraValue: "Dragon"),
        // NapCat / LLOneBot additions pass through as generic notices.
        NoticeSample(
            json: """
                {"time":1718200024,"self_id":2837465019,"post_type":"notice","notice_type":"group_msg_emoji_like",
                 "group_id":915273648,"user_id":1357924680,"message_id":4455,"likes":[{"emoji_id":"76","count":2}]}
                """,
            noticeType: "group_msg_emoji_like", subType: nil, userID: 1_357_924_680, groupID: 915_273_648,
            extraKey: "likes", extraValue: [["emoji_id": "76", "count": 2]]),
        NoticeSample(
            json: """
                {"time":1718200025,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"input_status",
                 "user_id":1357924680,"group_id":0,"status_text":"typing…","event_type":1}
                """,
            noticeType: "notify", subType: "input_status", userID: 1_357_924_680, groupID: 0,
            extraKey: "status_text", extraValue: "typing…"),
    ]

    @Test(arguments: samples)
    func noticeIsDecodedAndKeptWhole(_ sample: NoticeSample) throws {
        let value = try JSONValue(parsing: sample.json)
        let decoded = try OneBotEvent(json: value)
        #expect(decoded.postType == "notice")
        #expect(decoded.detailType == sample.noticeType)
        #expect(decoded.subType == sample.subType)
        #expect(decoded.userID == sample.userID)
        #expect(decoded.groupID == sample.groupID)
        #expect(decoded.selfID == 2_837_465_019)
        #expect(decoded.raw == value)
        #expect(decoded.raw[sample.extraKey] == sample.extraValue)
        #expect(decoded.message.isEmpty)
        #expect(!decoded.isInboundMessage)
    }

    @Test func recallNoticeKeepsItsNegativeMessageID() throws {
        let decoded = try event(
            #"{"time":1,"self_id":1,"post_type":"notice","notice_type":"group_recall","group_id":2,"user_id":3,"operator_id":3,"message_id":"-1834013272"}"#
        )
        #expect(decoded.messageID == -1_834_013_272)
    }
}

// MARK: Request events (§3.4)

@Suite struct OneBotRequestEventTests {
    @Test func friendRequestKeepsItsFlagAsAnOpaqueString() throws {
        let decoded = try event(
            """
            {"time":1718300000,"self_id":2837465019,"post_type":"request","request_type":"friend","user_id":2093847562,
             "comment":"met you at the meetup","flag":"0017183000000001"}
            """)
        #expect(decoded.postType == "request")
        #expect(decoded.detailType == "friend")
        #expect(decoded.subType == nil)
        #expect(decoded.userID == 2_093_847_562)
        #expect(decoded.raw["flag"] == .string("0017183000000001"))
        #expect(decoded.raw["comment"] == "met you at the meetup")
    }

    @Test(arguments: ["add", "invite"])
    func groupRequestKeepsSubTypeAndFlag(subType: String) throws {
        let decoded = try event(
            """
            {"time":1718300001,"self_id":2837465019,"post_type":"request","request_type":"group","sub_type":"\(subType)",
             "group_id":774411225,"user_id":2093847562,"comment":"","flag":"774411225|2093847562|\(subType)"}
            """)
        #expect(decoded.detailType == "group")
        #expect(decoded.subType == subType)
        #expect(decoded.groupID == 774_411_225)
        #expect(decoded.raw["flag"] == .string("774411225|2093847562|\(subType)"))
    }
}

// MARK: Meta events (§3.5)

@Suite struct OneBotMetaEventTests {
    @Test(arguments: ["connect", "enable", "disable"])
    func lifecycle(subType: String) throws {
        let decoded = try event(
            #"{"time":1718400000,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"lifecycle","sub_type":"\#(subType)"}"#)
        #expect(decoded.postType == "meta_event")
        #expect(decoded.detailType == "lifecycle")
        #expect(decoded.subType == subType)
        #expect(decoded.userID == nil)
    }

    @Test func forwardWebSocketLifecycleKeepsThePostMethodExtra() throws {
        let decoded = try event(
            #"{"_post_method":2,"meta_event_type":"lifecycle","post_type":"meta_event","self_id":2837465019,"sub_type":"connect","time":1718400001}"#
        )
        #expect(decoded.raw["_post_method"] == 2)
    }

    @Test func heartbeatKeepsStatusAndInterval() throws {
        let decoded = try event(
            """
            {"time":1718400002,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"heartbeat",
             "status":{"online":false,"good":true,"app_initialized":true,"plugins_good":null,
             "stat":{"packet_received":1200,"message_received":33}},"interval":30000}
            """)
        #expect(decoded.detailType == "heartbeat")
        #expect(decoded.raw["interval"]?.int64Value == 30000)
        #expect(decoded.raw["status"]?["online"] == false)
        #expect(decoded.raw["status"]?["stat"]?["message_received"] == 33)
    }
}

// MARK: Unknown and malformed input

@Suite struct OneBotUnknownEventTests {
    @Test func unknownPostTypeIsKeptWhole() throws {
        let json = """
            {"time":1718500000,"self_id":2837465019,"post_type":"message_reaction","reaction":{"emoji":"👍","count":3},
             "user_id":1357924680,"sub_type":"added"}
            """
        let value = try JSONValue(parsing: json)
        let decoded = try OneBotEvent(json: value)
        #expect(decoded.postType == "message_reaction")
        #expect(decoded.subType == "added")
        #expect(decoded.userID == 1_357_924_680)
        #expect(decoded.raw == value)
        #expect(!decoded.isInboundMessage)
    }

    @Test func unknownTypesAndExtraFieldsAreKept() throws {
        let json = """
            {"time":1718500001,"self_id":2837465019,"post_type":"notice","notice_type":"bot_offline","sub_type":"kicked",
             "tag":"BotOfflineEvent","message":"logged in elsewhere"}
            """
        let value = try JSONValue(parsing: json)
        let decoded = try OneBotEvent(json: value)
        #expect(decoded.detailType == "bot_offline")
        #expect(decoded.subType == "kicked")
        #expect(decoded.raw["tag"] == "BotOfflineEvent")
        #expect(decoded.raw == value)
    }

    @Test func unknownMetaEventType() throws {
        let decoded = try event(#"{"time":1,"self_id":1,"post_type":"meta_event","meta_event_type":"status_update","state":"ok"}"#)
        #expect(decoded.detailType == "status_update")
        #expect(decoded.raw["state"] == "ok")
    }

    @Test(arguments: [
        #"[1,2,3]"#,
        #""post_type""#,
        #"42"#,
        #"null"#,
        #"{}"#,
        #"{"time":1,"self_id":1,"message_type":"private"}"#,
        #"{"post_type":7}"#,
        #"{"post_type":null}"#,
        #"{"post_type":""}"#,
        #"{"post_type":["message"]}"#,
        #"{"status":"ok","retcode":0,"data":null,"echo":"hub-1-1"}"#,
    ])
    func nonEventsAreRejected(json: String) throws {
        let value = try JSONValue(parsing: json)
        #expect(throws: OneBotEvent.NotAnEvent.self) { try OneBotEvent(json: value) }
    }
}

// MARK: De-duplication keys (§6)

@Suite struct OneBotDeduplicationKeyTests {
    private func message(
        postType: String = "message", type: String = "group", group: Int64? = 915_273_648, user: Int64 = 1_357_924_680,
        id: Int64 = -77, time: Int64 = 1_718_600_000, text: String = "hi"
    ) throws -> OneBotEvent {
        let groupField = group.map { #","group_id":\#($0)"# } ?? ""
        return try event(
            #"{"time":\#(time),"self_id":2837465019,"post_type":"\#(postType)","message_type":"\#(type)","message_id":\#(id),"user_id":\#(user)\#(groupField),"message":"\#(text)"}"#
        )
    }

    @Test func redeliveredMessageHasTheSameKey() throws {
        let first = try message()
        let again = try message(text: "hi")
        let key = try #require(first.deduplicationKey(bot: 2_837_465_019))
        #expect(again.deduplicationKey(bot: 2_837_465_019) == key)
    }

    @Test func messageKeyDoesNotDependOnIdEncodingOrTimeUnit() throws {
        let numbers = try message()
        let strings = try event(
            #"{"time":"1718600000","self_id":"2837465019","post_type":"message","message_type":"group","message_id":"-77","user_id":"1357924680","group_id":"915273648","message":[{"type":"text","data":{"text":"hi"}}]}"#
        )
        let milliseconds = try message(time: 1_718_600_000_250)
        let key = numbers.deduplicationKey(bot: 1)
        #expect(key != nil)
        #expect(strings.deduplicationKey(bot: 1) == key)
        #expect(milliseconds.deduplicationKey(bot: 1) == key)
    }

    @Test func messageKeyTellsMessagesApart() throws {
        let base = try message()
        let keys = try [
            base,
            message(id: -78),
            message(time: 1_718_600_001),
            message(group: 915_273_649),
            message(type: "private", group: nil),
            message(type: "private", group: nil, user: 1_357_924_681),
            message(postType: "message_sent"),
        ].map { $0.deduplicationKey(bot: 2_837_465_019) }
        #expect(keys.allSatisfy { $0 != nil })
        #expect(Set(keys).count == keys.count)
        #expect(base.deduplicationKey(bot: 2_837_465_019) != base.deduplicationKey(bot: 2_837_465_020))
    }

    @Test func requestKeyIsTheTypeAndTheFlag() throws {
        func request(_ type: String, flag: String, time: Int64) throws -> OneBotEvent {
            try event(
                #"{"time":\#(time),"self_id":2837465019,"post_type":"request","request_type":"\#(type)","user_id":2093847562,"comment":"","flag":"\#(flag)"}"#
            )
        }
        let first = try request("friend", flag: "0017183000000001", time: 1_718_300_000)
        let retried = try request("friend", flag: "0017183000000001", time: 1_718_300_004)
        let key = try #require(first.deduplicationKey(bot: 2_837_465_019))
        #expect(key.hasSuffix("0017183000000001"))
        #expect(retried.deduplicationKey(bot: 2_837_465_019) == key)
        #expect(try request("friend", flag: "0017183000000002", time: 1_718_300_000).deduplicationKey(bot: 2_837_465_019) != key)
        #expect(try request("group", flag: "0017183000000001", time: 1_718_300_000).deduplicationKey(bot: 2_837_465_019) != key)
    }

    /// §6: a notice is recognised by its whole body (identical pokes in the same second collapse).
    @Test func noticeKeyFollowsTheWholeBody() throws {
        let poke = #"{"time":1718200014,"self_id":2837465019,"post_type":"notice","notice_type":"notify","sub_type":"poke","group_id":915273648,"user_id":1357924680,"target_id":2837465019}"#
        let first = try event(poke)
        let again = try event(poke)
        let later = try event(poke.replacingOccurrences(of: "1718200014", with: "1718200015"))
        let other = try event(poke.replacingOccurrences(of: "1357924680", with: "1357924681"))
        let reordered = try event(
            #"{"target_id":2837465019,"user_id":1357924680,"group_id":915273648,"sub_type":"poke","notice_type":"notify","post_type":"notice","self_id":2837465019,"time":1718200014}"#
        )
        let key = try #require(first.deduplicationKey(bot: 2_837_465_019))
        #expect(again.deduplicationKey(bot: 2_837_465_019) == key)
        #expect(reordered.deduplicationKey(bot: 2_837_465_019) == key)
        #expect(first.deduplicationKey(bot: 1) != key)
        #expect(later.deduplicationKey(bot: 2_837_465_019) != key)
        #expect(other.deduplicationKey(bot: 2_837_465_019) != key)
    }

    @Test(arguments: [
        #"{"time":1718400002,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":5000}"#,
        #"{"time":1718400000,"self_id":2837465019,"post_type":"meta_event","meta_event_type":"lifecycle","sub_type":"connect"}"#,
    ])
    func metaEventsAreNeverDeduplicated(json: String) throws {
        #expect(try event(json).deduplicationKey(bot: 2_837_465_019) == nil)
    }
}
