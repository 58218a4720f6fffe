// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

@testable import Adapters

struct VoiceClientMessageTests {
    // MARK: Valid messages

    @Test func aDeviceHello() throws {
        // As the firmware sends it, with glyph features it has and the hub does not read.
        let text = """
            {"type":"hello","version":3,"features":{"aec":true,"mcp":true,"glyph_push":true},\
            "text_font":{"bundle":"noto-v1","charset":"common","size":16,"bpp":1},"transport":"websocket",\
            "audio_params":{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":60}}
            """
        let message = try VoiceClientMessage.decode(text)
        #expect(message == .hello(.init(version: 3, features: .init(mcp: true, aec: true), transport: "websocket", audioParams: .device)))
    }

    @Test func aBareHelloHasNoFeaturesAndNoParams() throws {
        #expect(try VoiceClientMessage.decode(#"{"type":"hello"}"#) == .hello(.init(version: nil, features: .init(), transport: nil, audioParams: nil)))
        #expect(try VoiceClientMessage.decode(#"{"type":"hello","features":{}}"#) == .hello(.init(version: nil, transport: nil, audioParams: nil)))
    }

    @Test func aHelloWithUnusableParamsStillDecodes() throws {
        let text = #"{"type":"hello","audio_params":{"format":"mp3","sample_rate":44100,"channels":2,"frame_duration":60}}"#
        guard case .hello(let hello) = try VoiceClientMessage.decode(text) else {
            Issue.record("not a hello")
            return
        }
        #expect(hello.audioParams?.refusalReason != nil)
    }

    @Test(arguments: [
        (#"{"session_id":"s1","type":"listen","state":"start","mode":"auto"}"#, VoiceClientMessage.Listen(state: .start, mode: .auto)),
        (#"{"session_id":"s1","type":"listen","state":"start","mode":"manual"}"#, .init(state: .start, mode: .manual)),
        (#"{"session_id":"s1","type":"listen","state":"start","mode":"realtime"}"#, .init(state: .start, mode: .realtime)),
        (#"{"session_id":"s1","type":"listen","state":"stop"}"#, .init(state: .stop)),
        (#"{"session_id":"","type":"listen","state":"detect","text":"你好小智"}"#, .init(state: .detect, text: "你好小智")),
        (#"{"type":"listen","state":"start","mode":null,"text":null}"#, .init(state: .start)),
    ])
    func listen(text: String, expected: VoiceClientMessage.Listen) throws {
        #expect(try VoiceClientMessage.decode(text) == .listen(expected))
    }

    @Test func abortWithAndWithoutAReason() throws {
        #expect(try VoiceClientMessage.decode(#"{"session_id":"s","type":"abort"}"#) == .abort(reason: nil))
        #expect(try VoiceClientMessage.decode(#"{"session_id":"s","type":"abort","reason":"wake_word_detected"}"#) == .abort(reason: "wake_word_detected"))
    }

    @Test func mcpKeepsThePayloadVerbatim() throws {
        let text = #"{"session_id":"s","type":"mcp","payload":{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"self.audio_speaker.set_volume"}],"nextCursor":"x"}}}"#
        let expected: JSONValue = [
            "jsonrpc": "2.0", "id": 2, "result": ["tools": [["name": "self.audio_speaker.set_volume"]], "nextCursor": "x"],
        ]
        #expect(try VoiceClientMessage.decode(text) == .mcp(payload: expected))
    }

    @Test func pingAndUnknownTypes() throws {
        #expect(try VoiceClientMessage.decode(#"{"type":"ping"}"#) == .ping)
        #expect(try VoiceClientMessage.decode(#"{"type":"iot","descriptors":[]}"#) == .unknown(type: "iot"))
        #expect(try VoiceClientMessage.decode(#"{"type":"goodbye","session_id":"s"}"#) == .unknown(type: "goodbye"))
        #expect(try VoiceClientMessage.decode(#"{"type":"Hello"}"#) == .unknown(type: "Hello"))
    }

    @Test func extraFieldsAndANonStringSessionIDAreTolerated() throws {
        #expect(try VoiceClientMessage.decode(#"{"type":"ping","session_id":42,"extra":{"a":[1,2]}}"#) == .ping)
        #expect(try VoiceClientMessage.decode(#"{"type":"listen","state":"stop","session_id":null,"x":1}"#) == .listen(.init(state: .stop)))
    }

    @Test func decodesUTF8Bytes() throws {
        #expect(try VoiceClientMessage.decode(Array(#"{"type":"ping"}"#.utf8)) == .ping)
    }

    // MARK: Malformed messages

    @Test(arguments: ["", "not json", "{", #"{"type":"ping""#, "{type:ping}", "\u{0}"])
    func notJSON(text: String) {
        #expect(failure(text)?.kind == .notJSON)
    }

    @Test(arguments: ["[]", #"[{"type":"ping"}]"#, #""ping""#, "42", "null", "true"])
    func notAnObject(text: String) {
        let kind = failure(text)?.kind
        // Top-level scalars may be refused by the JSON reader itself, before the shape is checked.
        #expect(kind == .notAnObject || (kind == .notJSON && !text.hasPrefix("[")))
    }

    @Test(arguments: ["{}", #"{"state":"start"}"#, #"{"Type":"ping"}"#])
    func missingType(text: String) {
        #expect(failure(text)?.kind == .missingType)
    }

    @Test(arguments: [#"{"type":1}"#, #"{"type":null}"#, #"{"type":["ping"]}"#, #"{"type":{"name":"ping"}}"#, #"{"type":true}"#])
    func typeNotString(text: String) {
        #expect(failure(text)?.kind == .typeNotString)
    }

    @Test(arguments: [
        (#"{"type":"listen"}"#, "listen", "state"),
        (#"{"type":"listen","state":null}"#, "listen", "state"),
        (#"{"type":"listen","state":1}"#, "listen", "state"),
        (#"{"type":"listen","state":"begin"}"#, "listen", "state"),
        (#"{"type":"listen","state":"start","mode":"push"}"#, "listen", "mode"),
        (#"{"type":"listen","state":"start","mode":true}"#, "listen", "mode"),
        (#"{"type":"listen","state":"detect","text":5}"#, "listen", "text"),
        (#"{"type":"abort","reason":1}"#, "abort", "reason"),
        (#"{"type":"abort","reason":{}}"#, "abort", "reason"),
        (#"{"type":"mcp"}"#, "mcp", "payload"),
        (#"{"type":"mcp","payload":null}"#, "mcp", "payload"),
        (#"{"type":"hello","version":"1"}"#, "hello", "version"),
        (#"{"type":"hello","version":1.5}"#, "hello", "version"),
        (#"{"type":"hello","version":1e40}"#, "hello", "version"),
        (#"{"type":"hello","audio_params":{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":2.5}}"#, "hello", "audio_params.frame_duration"),
        (#"{"type":"hello","transport":7}"#, "hello", "transport"),
        (#"{"type":"hello","features":true}"#, "hello", "features"),
        (#"{"type":"hello","features":{"mcp":"yes"}}"#, "hello", "features.mcp"),
        (#"{"type":"hello","features":{"aec":1}}"#, "hello", "features.aec"),
        (#"{"type":"hello","audio_params":"opus"}"#, "hello", "audio_params"),
        (#"{"type":"hello","audio_params":{"format":"opus","channels":1,"frame_duration":60}}"#, "hello", "audio_params.sample_rate"),
        (#"{"type":"hello","audio_params":{"format":"opus","sample_rate":"16000","channels":1,"frame_duration":60}}"#, "hello", "audio_params.sample_rate"),
        (#"{"type":"hello","audio_params":{"format":1,"sample_rate":16000,"channels":1,"frame_duration":60}}"#, "hello", "audio_params.format"),
        (#"{"type":"hello","audio_params":{"format":"opus","sample_rate":16000,"channels":null,"frame_duration":60}}"#, "hello", "audio_params.channels"),
    ])
    func invalidFieldIsNamed(text: String, type: String, field: String) throws {
        let malformed = try #require(failure(text))
        #expect(malformed.kind == .invalidField)
        #expect(malformed.type == type)
        #expect(malformed.field == field)
        #expect(malformed.description.contains("\"\(field)\""))
    }

    private func failure(_ text: String) -> VoiceClientMessage.Malformed? {
        do {
            let message = try VoiceClientMessage.decode(text)
            Issue.record("\(text.debugDescription) decoded as \(message)")
            return nil
        } catch {
            return error
        }
    }
}
