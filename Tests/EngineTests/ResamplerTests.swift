// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

@Suite struct ResamplerTests {
    @Test(arguments: [Resampler.Quality.fastest, .medium])
    func resamplingKeepsDuration(_ quality: Resampler.Quality) throws {
        let tone = testTone(sampleRate: 22_050, channels: 1, seconds: 1.5)
        let resampled = try Resampler(quality: quality).resample(tone, to: 16_000)
        #expect(resampled.sampleRate == 16_000)
        #expect(resampled.channels == 1)
        #expect(abs(resampled.seconds - tone.seconds) < 0.002, "\(resampled.seconds) s")
        // Still the tone, not silence: about the same loudness in the middle.
        #expect(abs(rms(resampled.samples[8_000..<16_000]) - rms(tone.samples[11_025..<22_050])) < 200)
    }

    @Test func stereoAndUpsamplingKeepDuration() throws {
        let tone = testTone(sampleRate: 8_000, channels: 2, seconds: 2)
        let resampled = try Resampler().resample(tone, to: 48_000)
        #expect(resampled.channels == 2)
        #expect(abs(resampled.frameCount - 96_000) <= 2, "\(resampled.frameCount) frames")
        #expect(try Resampler().resample(tone, to: 8_000) == tone)
    }

    @Test func aLowRateToneSurvivesRateConversion() throws {
        // 300 Hz at 44.1 kHz → 16 kHz: count zero crossings, 600 a second either way.
        let frames = 44_100
        let samples = (0..<frames).map { Int16(10_000 * sin(2 * .pi * 300 * Double($0) / 44_100)) }
        let resampled = try Resampler().resample(PCMAudio(samples: samples, sampleRate: 44_100), to: 16_000)
        let crossings = zip(resampled.samples.dropLast(), resampled.samples.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        #expect((595...605).contains(crossings), "\(crossings) zero crossings")
    }

    @Test func impossibleRatiosAreBadInput() throws {
        let error = try #require(throws: SpeechError.self) {
            try Resampler().resample(testTone(sampleRate: 8_000, channels: 1, seconds: 0.1), to: 8_000 * 300)
        }
        #expect(error.kind == .badInput)
    }

    @Test func downmixAveragesChannels() {
        let stereo = PCMAudio(samples: [100, 300, -32_768, -32_768, 32_767, -32_768], sampleRate: 8_000, channels: 2)
        let mono = stereo.downmixedToMono()
        #expect(mono.channels == 1)
        #expect(mono.samples == [200, -32_768, 0])
        #expect(mono.downmixedToMono() == mono)
    }

    func rms(_ samples: ArraySlice<Int16>) -> Double {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
    }
}
