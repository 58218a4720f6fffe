// SPDX-License-Identifier: Apache-2.0

/// Bounds on audio the hub accepts from outside, checked before anything large is allocated.
///
/// ``AudioDecoder`` refuses input beyond them with ``SpeechError/Kind/badInput``: the byte size
/// before decoding, then the length, channels and sample rate the header claims (and whether that
/// length could fit in so many bytes), then the samples actually decoded as they arrive.
public struct AudioLimits: Sendable, Hashable {
    /// The largest encoded input, in bytes.
    public var maxInputBytes: Int
    /// The longest audio, in seconds.
    public var maxSeconds: Double
    /// The most channels.
    public var maxChannels: Int
    /// The sample rates accepted, in Hz.
    public var sampleRates: ClosedRange<Int>

    public init(
        maxInputBytes: Int = 25 << 20,
        maxSeconds: Double = 600,
        maxChannels: Int = 8,
        sampleRates: ClosedRange<Int> = 8_000...192_000
    ) {
        self.maxInputBytes = max(0, maxInputBytes)
        self.maxSeconds = max(0, maxSeconds)
        self.maxChannels = max(1, maxChannels)
        self.sampleRates = sampleRates
    }

    /// 25 MiB (the size OpenAI's transcription endpoint takes), 10 minutes, 8 channels, 8–192 kHz.
    public static let `default` = AudioLimits()

    /// The most frames allowed at `sampleRate`.
    func maxFrames(sampleRate: Int) -> Int {
        let frames = maxSeconds * Double(sampleRate)
        return frames >= Double(Int.max) ? Int.max : Int(frames)
    }

    /// Throws `badInput` when the format itself is out of bounds.
    func check(sampleRate: Int, channels: Int) throws {
        guard channels >= 1, channels <= maxChannels else {
            throw SpeechError.badInput("audio has \(channels) channels; at most \(maxChannels) are accepted")
        }
        guard sampleRates.contains(sampleRate) else {
            throw SpeechError.badInput(
                "audio sample rate \(sampleRate) Hz is outside \(sampleRates.lowerBound)–\(sampleRates.upperBound) Hz")
        }
    }

    /// Throws `badInput` when decoded audio is out of bounds (for samples that arrive already decoded).
    func check(_ audio: PCMAudio) throws {
        try check(sampleRate: audio.sampleRate, channels: audio.channels)
        guard audio.frameCount <= maxFrames(sampleRate: audio.sampleRate) else {
            throw SpeechError.badInput("audio lasts \(Int(audio.seconds)) s; at most \(Int(maxSeconds)) s are accepted")
        }
    }
}
