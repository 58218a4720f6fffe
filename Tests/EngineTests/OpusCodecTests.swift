// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

/// Raw Opus packets through libopus, as the live voice door will exchange them.
struct OpusCodecTests {
    /// espeak-ng speech at `rate`, mono.
    static func speech(at rate: Int) async throws -> PCMAudio {
        let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: "hello world what time is it", voice: "en-us"), deadline: nil, onAudio: nil)
        return try Resampler().resample(spoken, to: rate)
    }

    static func energy(_ samples: some Collection<Int16>) -> Double {
        samples.reduce(0) { $0 + Double($1) * Double($1) } / Double(max(1, samples.count))
    }

    @Test(arguments: [16_000, 24_000])
    func speechRoundTripsIn60MillisecondFrames(rate: Int) async throws {
        let audio = try await Self.speech(at: rate)
        let codec = try OpusCodec(sampleRate: rate, frameMilliseconds: 60)
        #expect(codec.frameSamples == rate * 60 / 1000)
        let packets = try codec.encode(audio)
        #expect(packets.count == (audio.frameCount + codec.frameSamples - 1) / codec.frameSamples)
        #expect(packets.allSatisfy { !$0.isEmpty && $0.count < 1_000 })
        var decoded = [Int16]()
        for packet in packets { decoded += try codec.decode(packet: packet) }
        #expect(decoded.count == packets.count * codec.frameSamples)
        // Lossy, but the speech is there: its energy within a factor of two, silence stays quiet.
        let ratio = Self.energy(decoded) / Self.energy(audio.samples)
        #expect(ratio > 0.5 && ratio < 2, "energy ratio \(ratio)")
        let silence = try codec.encode(PCMAudio(samples: Array(repeating: 0, count: codec.frameSamples * 5), sampleRate: rate))
        let quiet = try silence.flatMap { try codec.decode(packet: $0) }
        // (the first frames carry the speech's tail through the codec's state)
        #expect(Self.energy(quiet) < Self.energy(audio.samples) / 1_000)
    }

    @Test func brokenPacketsAreRefusedAndTheStreamGoesOn() async throws {
        let codec = try OpusCodec(sampleRate: 16_000)
        let good = try codec.encode(try await Self.speech(at: 16_000))
        for broken: [UInt8] in [[], Array(repeating: 0xFF, count: 5_000), [0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]] {
            #expect(throws: SpeechError.self) { _ = try codec.decode(packet: broken) }
        }
        #expect(try codec.decode(packet: good[0]).count == codec.frameSamples)
    }

    @Test func framesAndSettingsLibopusLacksAreRefused() throws {
        #expect(throws: SpeechError.self) { _ = try OpusCodec(sampleRate: 22_050) }
        #expect(throws: SpeechError.self) { _ = try OpusCodec(sampleRate: 16_000, channels: 3) }
        #expect(throws: SpeechError.self) { _ = try OpusCodec(sampleRate: 16_000, frameMilliseconds: 30) }
        let codec = try OpusCodec(sampleRate: 16_000)
        #expect(throws: SpeechError.self) { _ = try codec.encode(frame: Array(repeating: 0, count: 100)[...]) }
        #expect(throws: SpeechError.self) { _ = try codec.encode(PCMAudio(samples: [0, 0], sampleRate: 8_000)) }
    }
}
