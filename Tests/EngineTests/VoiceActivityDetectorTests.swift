// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

/// WebRTC's VAD through the C++ shim, on silence, noise and espeak-ng speech.
@Suite struct VoiceActivityDetectorTests {
    /// The share of frames flagged as speech.
    static func voicedShare(_ decisions: [Bool]) -> Double {
        Double(decisions.filter { $0 }.count) / Double(max(1, decisions.count))
    }

    @Test func silenceAndNoiseAreNotSpeech() throws {
        let vad = try VoiceActivityDetector()
        let silence = vad.push(StreamingAudio.silence(seconds: 3))
        #expect(silence.count == 300)
        #expect(!silence.contains(true))
        // White noise at about −30 dBFS: past the first 100 ms (while the detector learns the
        // noise), hardly a frame.
        vad.reset()
        let noise = vad.push(StreamingAudio.noise(seconds: 5, rms: 1_000))
        #expect(Self.voicedShare(Array(noise.dropFirst(10))) < 0.02, "\(Self.voicedShare(noise))")
    }

    @Test func speechIsSpeechAlsoInNoise() async throws {
        let speech = try await StreamingAudio.speech("The quick brown fox jumps over the lazy dog, and then it runs away.")
        let vad = try VoiceActivityDetector()
        let clean = vad.push(StreamingAudio.silence(seconds: 0.5) + speech)
        let during = Array(clean.dropFirst(50))
        #expect(Self.voicedShare(during) > 0.8, "clean: \(Self.voicedShare(during))")
        // The same speech with white noise at 15 dB SNR.
        let noise = StreamingAudio.noise(seconds: 1, rms: StreamingAudio.rms(speech) / 5.6, seed: 9)
        vad.reset()
        let noisy = vad.push(StreamingAudio.mixed(StreamingAudio.silence(seconds: 0.5) + speech, with: noise))
        #expect(Self.voicedShare(Array(noisy.dropFirst(50))) > 0.7, "noisy: \(Self.voicedShare(Array(noisy.dropFirst(50))))")
        #expect(Self.voicedShare(Array(noisy[10..<50])) < 0.1, "noise before the speech: \(Self.voicedShare(Array(noisy[10..<50])))")
    }

    @Test func anyChunkingGivesTheSameDecisions() async throws {
        let speech = try await StreamingAudio.speech("hello world, what time is it?")
        let audio = StreamingAudio.mixed(StreamingAudio.silence(seconds: 0.3) + speech + StreamingAudio.silence(seconds: 0.3), with: StreamingAudio.noise(seconds: 1, rms: 300))
        let whole = try VoiceActivityDetector().push(audio)
        #expect(whole.count == audio.count / 160)
        for sizes in [[1], [7, 333], [160], [959, 1, 2048]] {
            let vad = try VoiceActivityDetector()
            var decisions: [Bool] = []
            for piece in StreamingAudio.pieces(audio, sizes: sizes) { decisions += vad.push(piece) }
            #expect(decisions == whole, "pieces of \(sizes)")
            #expect(vad.bufferedSamples == audio.count % 160)
            #expect(vad.frames == whole.count)
        }
    }

    @Test func resetDecidesAsANewDetector() async throws {
        let speech = try await StreamingAudio.speech("turn on the kitchen light")
        let noise = StreamingAudio.noise(seconds: 2, rms: 800, seed: 5)
        let first = StreamingAudio.mixed(speech + StreamingAudio.silence(seconds: 1), with: noise)
        let second = StreamingAudio.mixed(StreamingAudio.silence(seconds: 0.5) + speech, with: StreamingAudio.noise(seconds: 1, rms: 500, seed: 6))
        let fresh = try VoiceActivityDetector().push(second)
        let used = try VoiceActivityDetector()
        _ = used.push(first + [1, 2, 3])  // a partial frame too
        let carriedOver = used.push(second)
        used.reset()
        #expect(used.bufferedSamples == 0)
        #expect(used.push(second) == fresh)
        // Without the reset the detector remembered the first stream (its noise estimate).
        #expect(carriedOver != fresh)
    }

    @Test func modesDifferAndCanChange() async throws {
        let speech = try await StreamingAudio.speech("what is the weather today")
        let audio = StreamingAudio.mixed(StreamingAudio.silence(seconds: 0.5) + speech + StreamingAudio.silence(seconds: 0.5), with: StreamingAudio.noise(seconds: 1, rms: 700))
        let decisions = try VoiceActivityDetector.Mode.allCases.map { try VoiceActivityDetector(mode: $0).push(audio) }
        let shares = decisions.map(Self.voicedShare)
        // Mode 0 calls the most frames speech, mode 3 the fewest.
        #expect(shares[0] >= shares[3], "\(shares)")
        #expect(decisions[0] != decisions[3])
        let changed = try VoiceActivityDetector(mode: .quality)
        changed.mode = .veryAggressive
        #expect(changed.push(audio) == decisions[3])
    }

    @Test func aWrongFrameSizeIsNotSpeech() throws {
        let vad = try VoiceActivityDetector()
        let tooShort = [Int16](repeating: 3_000, count: 100)
        #expect(tooShort.withUnsafeBufferPointer { vad.classify($0) } == false)
        #expect(vad.frames == 0)
    }
}
