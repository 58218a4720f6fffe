// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Adapters

struct VoiceServerMessageTests {
    /// The message's JSON read back.
    private func fields(_ message: VoiceServerMessage) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(message.json.utf8))
    }

    @Test func helloHasEverythingADeviceRequires() throws {
        let message = VoiceServerMessage.hello(version: 1, sessionID: "s-1", audioParams: VoiceAudioParams(format: .opus, sampleRate: 24_000))
        #expect(
            try fields(message) == [
                "type": "hello", "version": 1, "transport": "websocket", "session_id": "s-1",
                "audio_params": ["format": "opus", "sample_rate": 24_000, "channels": 1, "frame_duration": 60],
            ])
        #expect(!message.json.contains("\n"))
        #expect(!message.json.contains(" "))
    }

    @Test func sttAndLLM() throws {
        #expect(try fields(.stt(text: "what's up?", sessionID: "s")) == ["type": "stt", "text": "what's up?", "session_id": "s"])
        #expect(try fields(.llm(emotion: .funny, sessionID: "s")) == ["type": "llm", "text": "😂", "emotion": "funny", "session_id": "s"])
        // Emoji go out as UTF-8, not escapes.
        #expect(VoiceServerMessage.llm(emotion: .happy, sessionID: "s").json.contains("🙂"))
    }

    @Test func ttsStates() throws {
        #expect(try fields(.ttsStart(sessionID: "s")) == ["type": "tts", "state": "start", "session_id": "s"])
        #expect(try fields(.ttsStop(sessionID: "s")) == ["type": "tts", "state": "stop", "session_id": "s"])
        #expect(
            try fields(.ttsSentenceStart(text: "It is sunny.", sessionID: "s")) == [
                "type": "tts", "state": "sentence_start", "text": "It is sunny.", "session_id": "s",
            ])
    }

    @Test func mcpCarriesItsPayload() throws {
        let payload: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": ["cursor": "a/b"]]
        let message = VoiceServerMessage.mcp(payload: payload, sessionID: "s")
        #expect(try fields(message) == ["type": "mcp", "payload": payload, "session_id": "s"])
        #expect(message.json.contains("a/b"))  // slashes unescaped
    }

    @Test func alertErrorAndPong() throws {
        #expect(
            try fields(.alert(status: "Error", message: "No answer", emotion: VoiceEmotion.sad.name)) == [
                "type": "alert", "status": "Error", "message": "No answer", "emotion": "sad",
            ])
        #expect(
            try fields(.error(code: "bad_message", message: "no \"type\"", sessionID: "s")) == [
                "type": "error", "code": "bad_message", "message": "no \"type\"", "session_id": "s",
            ])
        #expect(try fields(.error(code: "hello_timeout", message: "m", sessionID: nil)) == ["type": "error", "code": "hello_timeout", "message": "m"])
        #expect(try fields(.pong(sessionID: nil)) == ["type": "pong"])
        #expect(try fields(.pong(sessionID: "s")) == ["type": "pong", "session_id": "s"])
    }

    @Test func textIsEscapedAsJSON() throws {
        let text = "line\nbreak \"quoted\" \\ back\u{1}"
        #expect(try fields(.stt(text: text, sessionID: "s"))["text"] == .string(text))
    }
}
