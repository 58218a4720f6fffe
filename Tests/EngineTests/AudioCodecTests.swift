// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

/// A second of a chirp-like test tone (not silence, so lossy codecs have something to keep).
func testTone(sampleRate: Int, channels: Int, seconds: Double = 1) -> PCMAudio {
    let frames = Int(Double(sampleRate) * seconds)
    var samples = [Int16](repeating: 0, count: frames * channels)
    for frame in 0..<frames {
        let time = Double(frame) / Double(sampleRate)
        for channel in 0..<channels {
            let frequency = 440.0 * Double(channel + 1) + 200 * time
            samples[frame * channels + channel] = Int16(8_000 * sin(2 * .pi * frequency * time))
        }
    }
    return PCMAudio(samples: samples, sampleRate: sampleRate, channels: channels)
}

@Suite struct AudioCodecTests {
    static let formats: [AudioFormat] = [.wav, .flac, .ogg, .opus, .mp3]

    @Test(arguments: formats)
    func everyWritableFormatRoundTrips(_ format: AudioFormat) throws {
        #expect(AudioEncoder.canEncode(format), "libsndfile 1.2 on Debian 12 writes \(format)")
        let rates = format == .opus ? [8_000, 16_000, 48_000] : [8_000, 16_000, 44_100, 48_000]
        for rate in rates {
            for channels in [1, 2] {
                let tone = testTone(sampleRate: rate, channels: channels)
                let bytes = try AudioEncoder().encode(tone, as: format)
                let decoded = try AudioDecoder().decode(bytes, format: format)
                #expect(decoded.sampleRate == rate, "\(format) \(rate) Hz")
                #expect(decoded.channels == channels, "\(format) \(channels) channels")
                #expect(abs(decoded.seconds - tone.seconds) < 0.005, "\(format) \(rate) Hz \(channels) ch: \(decoded.seconds) s")
                if format == .wav || format == .flac {
                    #expect(decoded.samples == tone.samples, "\(format) is lossless")
                }
            }
        }
    }

    @Test func opusAndMP3TakeTheNextCodecRate() throws {
        let tone = testTone(sampleRate: 22_050, channels: 1)
        let opus = try AudioDecoder().decode(try AudioEncoder().encode(tone, as: .opus))
        #expect(opus.sampleRate == 24_000)
        #expect(abs(opus.seconds - 1) < 0.005)
        let mp3 = try AudioDecoder().decode(try AudioEncoder().encode(tone, as: .mp3))
        #expect(mp3.sampleRate == 22_050)
        let fromOdd = try AudioDecoder().decode(try AudioEncoder().encode(testTone(sampleRate: 37_000, channels: 1), as: .mp3))
        #expect(fromOdd.sampleRate == 44_100)
        #expect(abs(fromOdd.seconds - 1) < 0.005)
    }

    @Test func rawPCMRoundTripsWhenItsLayoutIsGiven() throws {
        let tone = testTone(sampleRate: 16_000, channels: 2, seconds: 0.25)
        let bytes = try AudioEncoder().encode(tone, as: .pcm)
        #expect(bytes.count == tone.samples.count * 2)
        #expect(bytes[0] == UInt8(truncatingIfNeeded: UInt16(bitPattern: tone.samples[0])))  // little-endian
        let decoded = try AudioDecoder().decode(bytes, format: .pcm, rawSampleRate: 16_000, rawChannels: 2)
        #expect(decoded == tone)
        try expectBadInput { try AudioDecoder().decode(bytes, format: .pcm) }
        try expectBadInput { try AudioDecoder().decode(bytes, format: .pcm, rawSampleRate: 16_000, rawChannels: 100) }
    }

    @Test func tooManyChannelsForMP3IsUnsupported() throws {
        let error = try #require(throws: SpeechError.self) {
            try AudioEncoder().encode(testTone(sampleRate: 16_000, channels: 3, seconds: 0.1), as: .mp3)
        }
        #expect(error.kind == .unsupported)
    }

    @Test func otherSampleWidthsAreConvertedTo16Bits() throws {
        // 8-bit WAV is unsigned: 0x80 is zero. 24-bit keeps its top 16 bits. Float ±1 is full scale.
        let eight = try AudioDecoder().decode(waveFile(sampleRate: 8_000, channels: 1, bits: 8, declaredDataBytes: 4, data: [0x80, 0xFF, 0x00, 0xC0]))
        #expect(eight.samples == [0, 32_512, -32_768, 16_384])
        let twentyFour = try AudioDecoder().decode(
            waveFile(sampleRate: 44_100, channels: 2, bits: 24, declaredDataBytes: 6, data: [0x56, 0x34, 0x12, 0x00, 0x00, 0x80]))
        #expect(twentyFour.samples == [0x1234, -32_768])
        #expect(twentyFour.channels == 2)
        let float: [Float] = [0.5, -1]
        let floatBytes = float.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
        let decoded = try AudioDecoder().decode(
            waveFile(sampleRate: 48_000, channels: 1, bits: 32, formatTag: 3, declaredDataBytes: 8, data: floatBytes))
        #expect(decoded.samples == [16_384, -32_768])
    }

    // MARK: - Broken input

    @Test func emptyAndGarbageAreBadInput() throws {
        try expectBadInput("empty") { try AudioDecoder().decode([]) }
        let text = Array(String(repeating: "this is not audio, only text. ", count: 100).utf8)
        try expectBadInput("not a readable") { try AudioDecoder().decode(text, format: .wav) }
        var generator = SeededGenerator(seed: 7)
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try expectBadInput("not a readable") { try AudioDecoder().decode(noise) }
    }

    @Test func headerClaimingTenHoursOnOneKilobyteIsBadInput() throws {
        // 22.05 kHz mono 16-bit: the data chunk says 10 hours, 980 bytes follow.
        let wav = waveFile(sampleRate: 22_050, channels: 1, declaredDataBytes: 22_050 * 2 * 36_000, data: [UInt8](repeating: 1, count: 980))
        #expect(wav.count == 1024)
        try expectBadInput("36000 s") { try AudioDecoder().decode(wav) }
        // The same lie within the duration limit is caught by the byte count.
        let short = waveFile(sampleRate: 22_050, channels: 1, declaredDataBytes: 22_050 * 2 * 60, data: [UInt8](repeating: 1, count: 980))
        try expectBadInput("truncated") { try AudioDecoder().decode(short) }
        // A FLAC stream claiming 10 hours.
        var flac = try AudioEncoder().encode(testTone(sampleRate: 22_050, channels: 1, seconds: 0.2), as: .flac)
        // STREAMINFO's 36-bit total-samples field: bytes 21…25 of the file (after "fLaC" and the block header).
        let claimed = UInt64(22_050 * 36_000)
        flac[21] = (flac[21] & 0xF0) | UInt8((claimed >> 32) & 0x0F)
        flac[22] = UInt8((claimed >> 24) & 0xFF)
        flac[23] = UInt8((claimed >> 16) & 0xFF)
        flac[24] = UInt8((claimed >> 8) & 0xFF)
        flac[25] = UInt8(claimed & 0xFF)
        try expectBadInput("36000 s") { try AudioDecoder().decode(flac) }
    }

    @Test(arguments: formats)
    func truncatedFilesAreBadInput(_ format: AudioFormat) throws {
        let bytes = try AudioEncoder().encode(testTone(sampleRate: 48_000, channels: 1, seconds: 2), as: format)
        try expectBadInput { try AudioDecoder().decode(Array(bytes[0..<bytes.count / 2])) }
        try expectBadInput { try AudioDecoder().decode(Array(bytes[0..<min(60, bytes.count)])) }
    }

    @Test func wrongHeadersAreBadInput() throws {
        let samples = [UInt8](repeating: 0, count: 400)
        try expectBadInput { try AudioDecoder().decode(waveFile(sampleRate: 22_050, channels: 0, declaredDataBytes: 400, data: samples)) }
        try expectBadInput("sample rate") { try AudioDecoder().decode(waveFile(sampleRate: 100, channels: 1, declaredDataBytes: 400, data: samples)) }
        try expectBadInput("channels") { try AudioDecoder().decode(waveFile(sampleRate: 16_000, channels: 9, declaredDataBytes: 396, data: samples)) }
        var flac = try AudioEncoder().encode(testTone(sampleRate: 16_000, channels: 1, seconds: 0.5), as: .flac)
        for index in 42..<flac.count { flac[index] ^= 0x5A }  // frames scrambled after STREAMINFO
        try expectBadInput { try AudioDecoder().decode(flac) }
    }

    @Test func oversizedBodyIsRefusedBeforeDecoding() throws {
        let body = [UInt8](repeating: 0, count: 100 << 20)
        // The size check's own message: the decoder refused the bytes before handing them to libsndfile.
        try expectBadInput("at most \(AudioLimits.default.maxInputBytes) are accepted") { try AudioDecoder().decode(body) }
    }

    @Test func durationLimitStopsDecoding() throws {
        let bytes = try AudioEncoder().encode(testTone(sampleRate: 16_000, channels: 1, seconds: 3), as: .ogg)
        try expectBadInput("at most 2 s") { try AudioDecoder(limits: AudioLimits(maxSeconds: 2)).decode(bytes) }
        #expect(try AudioDecoder(limits: AudioLimits(maxSeconds: 4)).decode(bytes).seconds > 2.99)
    }

    // MARK: - Helpers

    func expectBadInput(_ containing: String = "", _ body: () throws -> PCMAudio, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(throws: SpeechError.self, sourceLocation: sourceLocation) { try body() }
        #expect(error.kind == .badInput, "\(error)", sourceLocation: sourceLocation)
        #expect(containing.isEmpty || error.message.contains(containing), "\(error)", sourceLocation: sourceLocation)
    }

    /// A RIFF WAVE file with a PCM (`formatTag` 1) or float (3) `fmt ` chunk whose `data` chunk
    /// declares `declaredDataBytes`.
    func waveFile(
        sampleRate: Int, channels: Int, bits: Int = 16, formatTag: Int = 1, declaredDataBytes: Int, data: [UInt8]
    ) -> [UInt8] {
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func le16(_ value: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let blockAlign = channels * bits / 8
        var file = Array("RIFF".utf8) + le32(min(36 + declaredDataBytes, 0xFFFF_FFF0)) + Array("WAVEfmt ".utf8)
        file += le32(16) + le16(formatTag) + le16(channels) + le32(sampleRate) + le32(sampleRate * blockAlign) + le16(blockAlign) + le16(bits)
        file += Array("data".utf8) + le32(declaredDataBytes) + data
        return file
    }
}
