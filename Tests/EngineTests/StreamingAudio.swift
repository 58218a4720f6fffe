// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

/// Audio for the streaming tests, all 16 kHz mono: espeak-ng speech, noise and silence with the
/// dither a microphone has, and where the speech in it is.
enum StreamingAudio {
    static let rate = 16_000

    /// `text` spoken by espeak-ng (`voice`), resampled to 16 kHz, without its leading and trailing silence.
    static func speech(_ text: String, voice: String = "en-us", speed: Double = 1) async throws -> [Int16] {
        let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: text, voice: voice, speed: speed), deadline: nil)
        guard case .pcm(let audio) = spoken else { throw SpeechError.malformed("espeak returned encoded audio") }
        let samples = try Resampler(quality: .best).resample(audio, to: rate).samples
        let bounds = try #require(speechBounds(samples))
        return Array(samples[bounds])
    }

    /// The samples from the first to the end of the last 10 ms frame louder than −50 dBFS; nil
    /// when there is none.
    static func speechBounds(_ samples: [Int16]) -> Range<Int>? {
        let frame = 160
        let loud = stride(from: 0, to: samples.count - frame + 1, by: frame).filter { start in
            let energy = samples[start..<start + frame].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frame)
            return energy.squareRoot() > 32_768 * 0.003_16
        }
        guard let first = loud.first, let last = loud.last else { return nil }
        return first..<last + frame
    }

    /// `seconds` of silence with ±1 LSB of dither.
    static func silence(seconds: Double, seed: UInt64 = 1) -> [Int16] {
        var random = SeededRandom(seed)
        return (0..<Int(seconds * Double(rate))).map { _ in Int16(Int(random.next() % 3) - 1) }
    }

    /// `seconds` of white noise with RMS `rms` (uniform samples).
    static func noise(seconds: Double, rms: Double, seed: UInt64 = 2) -> [Int16] {
        var random = SeededRandom(seed)
        let amplitude = rms * 3.0.squareRoot()
        return (0..<Int(seconds * Double(rate))).map { _ in
            Int16(clamping: Int((Double(random.next() % 1_000_001) / 500_000 - 1) * amplitude))
        }
    }

    /// `samples` with `noise` added (cycled when shorter), clamped.
    static func mixed(_ samples: [Int16], with noise: [Int16]) -> [Int16] {
        samples.indices.map { Int16(clamping: Int(samples[$0]) + Int(noise[$0 % noise.count])) }
    }

    /// The RMS of `samples`.
    static func rms(_ samples: [Int16]) -> Double {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, samples.count))).squareRoot()
    }

    /// `samples` cut into pieces of the given sizes in turn (the last one as it comes).
    static func pieces(_ samples: [Int16], sizes: [Int]) -> [[Int16]] {
        var pieces: [[Int16]] = []
        var start = 0
        var turn = 0
        while start < samples.count {
            let end = min(samples.count, start + sizes[turn % sizes.count])
            pieces.append(Array(samples[start..<end]))
            start = end
            turn += 1
        }
        return pieces
    }
}

/// A small deterministic generator (splitmix64).
struct SeededRandom {
    private var state: UInt64

    init(_ seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
