// SPDX-License-Identifier: Apache-2.0

/// Speech synthesis in process with espeak-ng: robotic but instant, offline, and many languages.
///
/// Voices are espeak-ng voice names; the configured ones are offered (``voices``), any other is
/// refused as `unsupported` so a router can ask another provider. The text is read as plain text:
/// CQ codes, HTML and Markdown are removed first (``SpeakableText``). `speed` 1 is espeak's 175
/// words per minute, clamped to its 80…450. The result is ``SynthesizedSpeech/pcm(_:)`` at
/// 22,050 Hz mono, whatever format was asked for (the router encodes).
///
/// espeak-ng is process-global, so all instances share one engine on one thread of its own:
/// syntheses run one at a time, in order. A deadline is checked before starting and at every
/// block of samples (about 200 ms of audio), as is task cancellation.
///
/// ```swift
/// let tts = ESpeakSynthesizer()
/// let speech = try await tts.synthesize(SpeechRequest(text: "Hello", voice: "en-us"), deadline: .now + .seconds(10))
/// ```
public struct ESpeakSynthesizer: SpeechSynthesizer {
    /// espeak-ng's fixed output rate.
    public static let sampleRate = 22_050

    public let name: String
    public let voices: [String]
    /// The voice used when a request names none.
    public let defaultVoice: String
    /// 0…100 (espeak's normal is 50); nil for the normal pitch.
    public let pitch: Int?
    /// Longer text is refused as `badInput`. 4096 by default: the limit both synthesis routes take
    /// (OpenAI's), so text they accept is never refused here.
    public let maxCharacters: Int

    /// - Parameters:
    ///   - voices: espeak-ng voice names to offer (`en`, `en-us`, `cmn` Mandarin, `yue` Cantonese…).
    ///   - defaultVoice: for requests without a voice; the first of `voices` when nil.
    public init(
        name: String = "espeak-ng", voices: [String] = ["en", "en-us", "cmn", "yue"], defaultVoice: String? = nil,
        pitch: Int? = nil, maxCharacters: Int = 4_096
    ) {
        self.name = name
        self.voices = voices
        self.defaultVoice = defaultVoice ?? voices.first ?? "en"
        self.pitch = pitch.map { min(max($0, 0), 100) }
        self.maxCharacters = maxCharacters
    }

    public func synthesize(_ request: SpeechRequest, deadline: ContinuousClock.Instant?) async throws -> SynthesizedSpeech {
        .pcm(try await synthesize(request, deadline: deadline, onAudio: nil))
    }

    /// Synthesizes `request`, handing each block of samples to `onAudio` as espeak makes it (on
    /// the engine's thread: return quickly), and returns them all.
    public func synthesize(
        _ request: SpeechRequest, deadline: ContinuousClock.Instant?, onAudio: (@Sendable (PCMAudio) -> Void)?
    ) async throws -> PCMAudio {
        guard request.text.count <= maxCharacters else {
            throw SpeechError.badInput("the text has \(request.text.count) characters; at most \(maxCharacters) are spoken")
        }
        let text = SpeakableText.clean(request.text)
        guard !text.isEmpty else { throw SpeechError.badInput("the text has nothing to say") }
        let voice = request.voice ?? defaultVoice
        guard voices.contains(voice) else {
            throw SpeechError.unsupported("\(name) offers the voices \(voices.joined(separator: ", ")), not \"\(voice)\"")
        }
        if let deadline, ContinuousClock.now >= deadline {
            throw SpeechError.timeout("the deadline passed before synthesis started")
        }
        let job = ESpeakEngine.Job(
            text: text, voice: voice, rate: Self.wordsPerMinute(speed: request.speed), pitch: pitch ?? 50,
            deadline: deadline, onAudio: onAudio)
        return try await ESpeakEngine.shared.synthesize(job)
    }

    /// espeak's rate for a relative `speed`: 175 words per minute at 1, within 80…450.
    static func wordsPerMinute(speed: Double) -> Int {
        let speed = speed.isFinite && speed > 0 ? speed : 1
        return min(max(Int((175 * speed).rounded()), 80), 450)
    }
}
