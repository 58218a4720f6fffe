// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// The body of `POST /api/v1/tts/synthesize` (seed 004): `{"text","voice","speed","format"}`.
struct SpeechSynthesisBody: Decodable, Sendable {
    var text: String
    var voice: String?
    var speed: Double?
    /// `wav` (default), `mp3`, `ogg`, `opus`, `flac`, `pcm`.
    var format: String?
}

/// The body of OpenAI's `POST /v1/audio/speech`: `{"model","input","voice","response_format","speed"}`.
struct OpenAISpeechBody: Decodable, Sendable {
    var model: String?
    var input: String
    var voice: String?
    /// `mp3` (OpenAI's default), `opus`, `aac`, `flac`, `wav`, `pcm`.
    var responseFormat: String?
    var speed: Double?

    enum CodingKeys: String, CodingKey {
        case model, input, voice, speed
        case responseFormat = "response_format"
    }
}

/// What both synthesis routes accept, checked.
struct SpeechSynthesisOrder: Sendable {
    /// Longest text taken in one request (OpenAI's limit).
    static let maxCharacters = 4096

    var request: SpeechRequest

    /// Checks the fields; the message names the field at fault.
    init(text: String, voice: String?, speed: Double?, format: String?, defaultFormat: AudioFormat, textField: String, formatField: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw FieldError(field: textField, message: "`\(textField)` is empty: there is nothing to say.") }
        guard trimmed.count <= Self.maxCharacters else {
            throw FieldError(field: textField, message: "`\(textField)` is longer than \(Self.maxCharacters) characters.")
        }
        let speed = speed ?? 1
        guard speed.isFinite, (0.25...4).contains(speed) else {
            throw FieldError(field: "speed", message: "`speed` must be between 0.25 and 4.")
        }
        let chosen: AudioFormat
        if let format {
            guard let known = AudioFormat(rawValue: format.lowercased()) else {
                let names = AudioFormat.allCases.map(\.rawValue).joined(separator: ", ")
                throw FieldError(field: formatField, message: "`\(formatField)` must be one of \(names).")
            }
            chosen = known
        } else {
            chosen = defaultFormat
        }
        let voice = voice.flatMap { $0.isEmpty ? nil : $0 }
        request = SpeechRequest(text: trimmed, voice: voice, speed: speed, format: chosen)
    }

    /// A field the caller got wrong.
    struct FieldError: Error, Sendable {
        var field: String
        var message: String
    }
}
