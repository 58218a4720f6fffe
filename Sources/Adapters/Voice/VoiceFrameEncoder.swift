// SPDX-License-Identifier: Apache-2.0
import Engine
import Synchronization

/// Turns synthesized speech into the frames a voice client plays: mono at the rate the hub's hello
/// announced, cut into frames of the announced duration (the last one padded with silence), each
/// an Opus packet (xiaozhi devices) or raw little-endian 16-bit PCM (the chat page).
///
/// One per connection: the Opus encoder keeps its state from frame to frame (behind a lock, so one
/// turn's speaker and the next can share it).
final class VoiceFrameEncoder: Sendable {
    /// What each frame holds.
    enum Format: String, Sendable {
        case opus
        case pcm16
    }

    let format: Format
    let sampleRate: Int
    let frameMilliseconds: Int
    private let opus: Mutex<OpusCodec?>
    private let resampler = Resampler(quality: .fastest)

    /// - Throws: ``SpeechError`` `badInput` for a rate or frame duration Opus lacks.
    init(format: Format, sampleRate: Int, frameMilliseconds: Int) throws {
        self.format = format
        self.sampleRate = sampleRate
        self.frameMilliseconds = frameMilliseconds
        opus = Mutex(format == .opus ? try OpusCodec(sampleRate: sampleRate, frameMilliseconds: frameMilliseconds) : nil)
    }

    /// Samples in one frame.
    var frameSamples: Int { sampleRate * frameMilliseconds / 1000 }

    /// The frames of `audio`, in order.
    func frames(of audio: PCMAudio) throws -> [[UInt8]] {
        var mono = audio.downmixedToMono()
        if mono.sampleRate != sampleRate { mono = try resampler.resample(mono, to: sampleRate) }
        if format == .opus { return try opus.withLock { codec in try codec?.encode(mono) ?? [] } }
        var frames = [[UInt8]]()
        frames.reserveCapacity(mono.samples.count / frameSamples + 1)
        var start = 0
        while start < mono.samples.count {
            let end = min(mono.samples.count, start + frameSamples)
            var frame = [UInt8]()
            frame.reserveCapacity(frameSamples * 2)
            for sample in mono.samples[start..<end] {
                let bits = UInt16(bitPattern: sample)
                frame.append(UInt8(truncatingIfNeeded: bits))
                frame.append(UInt8(truncatingIfNeeded: bits >> 8))
            }
            frame += [UInt8](repeating: 0, count: frameSamples * 2 - frame.count)
            frames.append(frame)
            start = end
        }
        return frames
    }
}
