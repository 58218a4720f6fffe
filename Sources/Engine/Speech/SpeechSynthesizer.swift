// SPDX-License-Identifier: Apache-2.0

/// What to say, and how.
public struct SpeechRequest: Sendable, Hashable {
    /// Plain text (callers strip markup first).
    public var text: String
    /// The provider's voice name (`en-us`, `cmn`, `alloy`); nil for the provider's default.
    public var voice: String?
    /// Speaking rate relative to normal (0.25…4).
    public var speed: Double
    /// The format the caller wants; a provider that cannot produce it returns what it can and the
    /// router converts.
    public var format: AudioFormat

    public init(text: String, voice: String? = nil, speed: Double = 1, format: AudioFormat = .wav) {
        self.text = text
        self.voice = voice
        self.speed = speed
        self.format = format
    }
}

/// Audio a synthesizer produced: samples (in-process engines) or an encoded file (remote ones).
public enum SynthesizedSpeech: Sendable, Hashable {
    case pcm(PCMAudio)
    case encoded([UInt8], AudioFormat)
}

/// Something that turns text into speech: espeak-ng in process, an OpenAI-compatible
/// `POST /audio/speech` service.
///
/// Failures are thrown as ``SpeechError``. Like ``ChatProvider``, it ends by `deadline` when one
/// is given (the router relies on it), throwing a `timeout` error.
public protocol SpeechSynthesizer: Sendable {
    /// The configured name.
    var name: String { get }
    /// The voices it offers; empty when it takes any name (a remote service decides).
    var voices: [String] { get }
    func synthesize(_ request: SpeechRequest, deadline: ContinuousClock.Instant?) async throws -> SynthesizedSpeech
}
