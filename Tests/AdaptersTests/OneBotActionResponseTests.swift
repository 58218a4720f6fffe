// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

@testable import Adapters

private func response(_ json: String) throws -> OneBotActionResponse {
    try #require(OneBotActionResponse(json: try JSONValue(parsing: json)))
}

@Suite struct OneBotActionResponseTests {
    // MARK: Status

    @Test func okWithData() throws {
        let decoded = try response(
            #"{"status":"ok","retcode":0,"data":{"message_id":1193047},"message":"","wording":"","echo":"hub-3-17"}"#)
        #expect(decoded.status == "ok")
        #expect(decoded.retcode == 0)
        #expect(decoded.succeeded)
        #expect(decoded.family == .ok)
        #expect(decoded.echo == "hub-3-17")
        #expect(decoded.data == ["message_id": 1_193_047])
        #expect(decoded.messageID == "1193047")
    }

    @Test(arguments: [
        // status, retcode, status read, succeeded
        (#"{"status":"ok","retcode":0}"#, "ok", true),
        (#"{"retcode":0,"data":null}"#, "ok", true),
        (#"{"retcode":"0"}"#, "ok", true),
        (#"{"status":"async","retcode":1,"data":null}"#, "async", true),
        (#"{"retcode":1}"#, "async", true),
        (#"{"status":"failed","retcode":100}"#, "failed", false),
        (#"{"retcode":100}"#, "failed", false),
        (#"{"retcode":-26}"#, "failed", false),
        (#"{"retcode":1404}"#, "failed", false),
        (#"{"status":"ok"}"#, "ok", true),
        (#"{"status":"failed"}"#, "failed", false),
    ])
    func statusFromStatusOrRetcode(json: String, status: String, succeeded: Bool) throws {
        let decoded = try response(json)
        #expect(decoded.status == status)
        #expect(decoded.succeeded == succeeded)
    }

    @Test func asyncIsAcceptedWithoutData() throws {
        let decoded = try response(#"{"status":"async","retcode":1,"data":null,"echo":"e-2"}"#)
        #expect(decoded.succeeded)
        #expect(decoded.family == .ok)
        #expect(decoded.data == .null)
        #expect(decoded.messageID == nil)
    }

    // MARK: Failure families (§2.2)

    @Test(arguments: [
        (404, OneBotActionResponse.Family.unsupported),
        (1404, .unsupported),
        (1400, .badRequest),
        (400, .badRequest),
        (401, .auth),
        (403, .auth),
        (1401, .auth),
        (1403, .auth),
        (100, .other),
        (102, .other),
        (200, .other),
        (1200, .other),
        (-34, .other),
    ] as [(Int64, OneBotActionResponse.Family)])
    func failureFamilies(retcode: Int64, family: OneBotActionResponse.Family) throws {
        #expect(try response(#"{"status":"failed","retcode":\#(retcode),"data":null}"#).family == family)
        #expect(try response(#"{"retcode":\#(retcode)}"#).family == family)
        #expect(try response(#"{"status":"failed","retcode":"\#(retcode)"}"#).family == family)
    }

    @Test func okStatusWinsOverAnOddRetcode() throws {
        let decoded = try response(#"{"status":"ok","retcode":404}"#)
        #expect(decoded.succeeded)
        #expect(decoded.family == .ok)
    }

    // MARK: Messages and wording

    @Test func goCQHTTPFailureKeepsMsgAndWording() throws {
        let decoded = try response(
            #"{"status":"failed","retcode":100,"data":null,"msg":"GROUP_NOT_FOUND","wording":"群聊不存在","message":"群聊不存在","echo":"hub-3-18"}"#
        )
        #expect(decoded.message == "GROUP_NOT_FOUND")
        #expect(decoded.wording == "群聊不存在")
        #expect(decoded.family == .other)
        #expect(!decoded.succeeded)
        #expect(decoded.echo == "hub-3-18")
    }

    @Test func goCQHTTPUnknownAction() throws {
        let decoded = try response(#"{"status":"failed","retcode":404,"msg":"API_NOT_FOUND","wording":"API不存在","echo":"hub-1-1"}"#)
        #expect(decoded.family == .unsupported)
        #expect(decoded.message == "API_NOT_FOUND")
        #expect(decoded.wording == "API不存在")
    }

    @Test func napCatFailureUsesMessage() throws {
        let decoded = try response(
            #"{"status":"failed","retcode":1200,"data":null,"message":"消息体无法解析","wording":"消息体无法解析","echo":"hub-1-2"}"#)
        #expect(decoded.message == "消息体无法解析")
        #expect(decoded.wording == "消息体无法解析")
        #expect(decoded.family == .other)
    }

    @Test func errorDescriptionCarriesRetcodeAndWords() throws {
        let failure = try response(#"{"status":"failed","retcode":100,"msg":"EMPTY_MSG_ERROR","wording":"消息为空"}"#)
        let description = OneBotActionError(.failed, response: failure).description
        #expect(description.contains("100"))
        #expect(description.contains("EMPTY_MSG_ERROR"))
        #expect(description.contains("消息为空"))
        #expect(OneBotActionError(.timeout, detail: "send_msg").description.contains("send_msg"))
    }

    // MARK: Echo

    @Test func napCatNullOrEmptyEcho() throws {
        #expect(try response(#"{"status":"failed","retcode":1400,"data":null,"message":"bad json","echo":null}"#).echo == nil)
        #expect(try response(#"{"status":"failed","retcode":1400,"data":null,"message":"bad json","echo":""}"#).echo == "")
        #expect(try response(#"{"status":"failed","retcode":1400,"data":null}"#).echo == nil)
    }

    @Test func nonStringEchoesComeBackAsText() throws {
        #expect(try response(#"{"status":"ok","retcode":0,"echo":42}"#).echo == "42")
        #expect(try response(#"{"status":"ok","retcode":0,"echo":{"seq":7}}"#).echo == #"{"seq":7}"#)
    }

    // MARK: message_id

    @Test(arguments: [
        #"{"status":"ok","retcode":0,"data":{"message_id":-1834013271}}"#,
        #"{"status":"ok","retcode":0,"data":{"message_id":"-1834013271"}}"#,
        #"{"status":"ok","retcode":0,"data":{"message_id":" -1834013271 "}}"#,
        #"{"status":"ok","retcode":0,"data":{"message_id":-1834013271.0}}"#,
    ])
    func messageIDFromNegativeIntegersAndStrings(json: String) throws {
        #expect(try response(json).messageID == "-1834013271")
    }

    @Test(arguments: [
        #"{"status":"ok","retcode":0,"data":null}"#,
        #"{"status":"ok","retcode":0}"#,
        #"{"status":"ok","retcode":0,"data":{}}"#,
        #"{"status":"ok","retcode":0,"data":{"message_id":"abc"}}"#,
        #"{"status":"ok","retcode":0,"data":[1,2]}"#,
    ])
    func noMessageID(json: String) throws {
        #expect(try response(json).messageID == nil)
    }

    @Test func largeIDsSurviveWithoutFloatingPoint() throws {
        let decoded = try response(#"{"status":"ok","retcode":0,"data":{"message_id":9007199254740993,"forward_id":"abc"}}"#)
        #expect(decoded.messageID == "9007199254740993")
    }

    // MARK: Not a response

    @Test(arguments: [
        #"{}"#,
        #"{"data":{"message_id":1},"echo":"e"}"#,
        #"{"time":1,"self_id":1,"post_type":"meta_event","meta_event_type":"heartbeat"}"#,
        #"[{"status":"ok","retcode":0}]"#,
        #""ok""#,
        #"null"#,
    ])
    func notAResponse(json: String) throws {
        #expect(OneBotActionResponse(json: try JSONValue(parsing: json)) == nil)
    }
}
