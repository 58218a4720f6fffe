// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct WAVFileTests {
    /// Reads a little-endian unsigned integer of `size` bytes at `offset`.
    private func number(_ bytes: [UInt8], at offset: Int, size: Int) -> Int {
        (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }

    @Test func monoHeaderAndSamplesByteForByte() throws {
        let file = try WAVFile.encode(PCMAudio(samples: [1, -2, Int16.min], sampleRate: 16_000))
        let header: [UInt8] = [
            0x52, 0x49, 0x46, 0x46, 42, 0, 0, 0, 0x57, 0x41, 0x56, 0x45,  // "RIFF", 36 + 6, "WAVE"
            0x66, 0x6D, 0x74, 0x20, 16, 0, 0, 0,  // "fmt ", chunk of 16 bytes
            1, 0, 1, 0,  // PCM, one channel
            0x80, 0x3E, 0, 0, 0x00, 0x7D, 0, 0,  // 16 000 Hz, 32 000 bytes a second
            2, 0, 16, 0,  // 2 bytes a frame, 16 bits a sample
            0x64, 0x61, 0x74, 0x61, 6, 0, 0, 0,  // "data", 6 bytes
        ]
        #expect(Array(file.prefix(44)) == header)
        #expect(Array(file.dropFirst(44)) == [0x01, 0x00, 0xFE, 0xFF, 0x00, 0x80])
        #expect(WAVFile.headerSize == 44)
    }

    @Test func stereoFieldsFollowTheChannelCount() throws {
        let samples: [Int16] = (0..<8).map { Int16($0) * 1000 - 4000 }
        let file = try WAVFile.encode(PCMAudio(samples: samples, sampleRate: 44_100, channels: 2))
        #expect(file.count == 44 + 16)
        #expect(number(file, at: 4, size: 4) == 36 + 16)
        #expect(number(file, at: 22, size: 2) == 2)
        #expect(number(file, at: 24, size: 4) == 44_100)
        #expect(number(file, at: 28, size: 4) == 44_100 * 4)
        #expect(number(file, at: 32, size: 2) == 4)
        #expect(number(file, at: 34, size: 2) == 16)
        #expect(number(file, at: 40, size: 4) == 16)
        let decoded = stride(from: 44, to: file.count, by: 2).map { Int16(bitPattern: UInt16(number(file, at: $0, size: 2))) }
        #expect(decoded == samples)
    }

    @Test func emptyAudioIsAHeaderAlone() throws {
        let file = try WAVFile.encode(PCMAudio(samples: [], sampleRate: 8_000))
        #expect(file.count == 44)
        #expect(number(file, at: 4, size: 4) == 36)
        #expect(number(file, at: 40, size: 4) == 0)
    }

    @Test func theLargestDataThatFitsIsAccepted() throws {
        let largest = Int(UInt32.max) - 36 - 1  // even, and RIFF size 36 + data = UInt32.max - 1
        let header = try WAVFile.header(sampleRate: 48_000, channels: 1, dataBytes: largest)
        #expect(number(header, at: 40, size: 4) == largest)
        #expect(number(header, at: 4, size: 4) == largest + 36)
    }

    @Test(arguments: [
        (16_000, 0, 0), (16_000, 65_536, 0), (16_000, -1, 0),  // channels
        (0, 1, 0), (-8_000, 1, 0), (Int(UInt32.max), 1, 0), (Int.max / 2, 2, 0),  // sample rate (byte rate overflows 32 or 64 bits)
        (16_000, 1, 3), (16_000, 1, -2), (16_000, 1, Int(UInt32.max) - 35),  // data: odd, negative, too large for RIFF
    ])
    func whatAWAVHeaderCannotDescribeIsBadInput(sampleRate: Int, channels: Int, dataBytes: Int) {
        do {
            let header = try WAVFile.header(sampleRate: sampleRate, channels: channels, dataBytes: dataBytes)
            Issue.record("expected an error, got a header of \(header.count) bytes")
        } catch let error as SpeechError {
            #expect(error.kind == .badInput)
        } catch {
            Issue.record("expected a SpeechError, got \(error)")
        }
    }
}
