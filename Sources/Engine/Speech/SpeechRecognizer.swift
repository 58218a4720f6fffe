// SPDX-License-Identifier: Apache-2.0

/// Audio to recognize: a file as received (a remote recognizer takes it as it is, one in process
/// decodes it), or samples (the live voice door).
public enum AudioInput: Sendable, Hashable {
    /// Encoded audio; the format when the sender said which (else it is sniffed).
    case encoded([UInt8], format: AudioFormat?)
    case pcm(PCMAudio)
}

/// What was said.
public struct Transcript: Sendable, Hashable {
    public var text: String
    /// The language recognized or assumed (`en`, `zh`), when known.
    public var language: String?
    /// Length of the audio in seconds, when known.
    public var duration: Double?

    public init(text: String, language: String? = nil, duration: Double? = nil) {
        self.text = text
        self.language = language
        self.duration = duration
    }
}

/// Something that turns speech into text: PocketSphinx in process, an OpenAI-compatible
/// `POST /audio/transcriptions` service (OpenAI, SiliconFlow, Whisper and SenseVoice servers).
///
/// Failures are thrown as ``SpeechError`` (`badInput` for audio nobody can decode). It ends by
/// `deadline` when one is given, throwing a `timeout` error.
public protocol SpeechRecognizer: Sendable {
    /// The configured name.
    var name: String { get }
    /// `language` is a hint (ISO 639-1, e.g. `en`, `zh`); nil lets the recognizer decide.
    func transcribe(_ audio: AudioInput, language: String?, deadline: ContinuousClock.Instant?) async throws -> Transcript
}
