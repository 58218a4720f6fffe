// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// A JSON text frame the hub sends a voice client.
///
/// What a xiaozhi device reads: `hello` (must say `transport:"websocket"`), `stt` (the user's line),
/// `llm` (the face: `emotion`), `tts` `start` (before any audio: the device drops audio unless it is
/// speaking), `sentence_start` (the assistant's line) and `stop` (end of turn, and the answer to
/// `abort`), `mcp` (a JSON-RPC request for its MCP server), `alert`. Devices ignore types they do not
/// know, so `error` (a hub extension, shown by the chat page) and `pong` are safe to send them.
///
/// ```swift
/// try await outbound.write(.text(VoiceServerMessage.ttsStart(sessionID: id).json))
/// ```
/// ```json
/// {"type":"hello","version":1,"transport":"websocket","session_id":"…","audio_params":{"format":"opus","sample_rate":24000,"channels":1,"frame_duration":60}}
/// {"type":"stt","text":"what's the weather","session_id":"…"}
/// {"type":"llm","text":"🙂","emotion":"happy","session_id":"…"}
/// {"type":"tts","state":"sentence_start","text":"It is sunny.","session_id":"…"}
/// {"type":"error","code":"bad_audio_params","message":"…","session_id":"…"}
/// ```
public enum VoiceServerMessage: Sendable, Hashable {
    /// The answer to the client's hello: the session id and the params of the audio the hub sends.
    case hello(version: Int, sessionID: String, audioParams: VoiceAudioParams)
    /// What the hub heard the user say.
    case stt(text: String, sessionID: String)
    /// The face to show for this answer (`text` is its emoji, `emotion` its name).
    case llm(emotion: VoiceEmotion, sessionID: String)
    /// `tts` `start`: an answer is about to play; send before its first audio frame.
    case ttsStart(sessionID: String)
    /// `tts` `sentence_start`: the sentence whose audio follows (without emoji).
    case ttsSentenceStart(text: String, sessionID: String)
    /// `tts` `stop`: the answer is over (also the reply to `abort`).
    case ttsStop(sessionID: String)
    /// A JSON-RPC message for the device's MCP server.
    case mcp(payload: JSONValue, sessionID: String)
    /// An alert the device shows (and sounds): all three strings are required by the device.
    /// `emotion` is a face name such as ``VoiceEmotion/sad``'s.
    case alert(status: String, message: String, emotion: String)
    /// Hub extension: why a message or the session was refused. `code` is a short machine word
    /// (`bad_message`, `bad_audio_params`); nil `sessionID` before the hello is answered.
    case error(code: String, message: String, sessionID: String?)
    /// The answer to a `ping`.
    case pong(sessionID: String?)

    /// The message as one line of compact JSON (slashes unescaped; key order not fixed).
    public var json: String {
        // Only strings, integers, booleans and JSON values: encoding cannot fail.
        let data = (try? Self.encoder.encode(self)) ?? Data(#"{"type":"error","code":"internal","message":"unencodable message"}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

extension VoiceServerMessage: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type, version, transport, state, text, emotion, payload, status, message, code
        case sessionID = "session_id"
        case audioParams = "audio_params"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .hello(let version, let sessionID, let audioParams):
            try container.encode("hello", forKey: .type)
            try container.encode(version, forKey: .version)
            try container.encode("websocket", forKey: .transport)
            try container.encode(sessionID, forKey: .sessionID)
            try container.encode(audioParams, forKey: .audioParams)
        case .stt(let text, let sessionID):
            try container.encode("stt", forKey: .type)
            try container.encode(text, forKey: .text)
            try container.encode(sessionID, forKey: .sessionID)
        case .llm(let emotion, let sessionID):
            try container.encode("llm", forKey: .type)
            try container.encode(String(Character(emotion.emoji)), forKey: .text)
            try container.encode(emotion.name, forKey: .emotion)
            try container.encode(sessionID, forKey: .sessionID)
        case .ttsStart(let sessionID):
            try container.encode("tts", forKey: .type)
            try container.encode("start", forKey: .state)
            try container.encode(sessionID, forKey: .sessionID)
        case .ttsSentenceStart(let text, let sessionID):
            try container.encode("tts", forKey: .type)
            try container.encode("sentence_start", forKey: .state)
            try container.encode(text, forKey: .text)
            try container.encode(sessionID, forKey: .sessionID)
        case .ttsStop(let sessionID):
            try container.encode("tts", forKey: .type)
            try container.encode("stop", forKey: .state)
            try container.encode(sessionID, forKey: .sessionID)
        case .mcp(let payload, let sessionID):
            try container.encode("mcp", forKey: .type)
            try container.encode(payload, forKey: .payload)
            try container.encode(sessionID, forKey: .sessionID)
        case .alert(let status, let message, let emotion):
            try container.encode("alert", forKey: .type)
            try container.encode(status, forKey: .status)
            try container.encode(message, forKey: .message)
            try container.encode(emotion, forKey: .emotion)
        case .error(let code, let message, let sessionID):
            try container.encode("error", forKey: .type)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encodeIfPresent(sessionID, forKey: .sessionID)
        case .pong(let sessionID):
            try container.encode("pong", forKey: .type)
            try container.encodeIfPresent(sessionID, forKey: .sessionID)
        }
    }
}
