// SPDX-License-Identifier: Apache-2.0

/// The RIFF WAVE container for 16-bit PCM: a 44-byte header in front of the little-endian samples.
///
/// Only the container is written; the samples go in as they are. A remote recognizer takes a file,
/// so ``AudioInput/pcm(_:)`` is sent wrapped this way.
///
/// ```swift
/// let file = try WAVFile.encode(PCMAudio(samples: [0, 1000, -1000], sampleRate: 16_000))
/// // file.count == 44 + 6
/// ```
public enum WAVFile {
    /// The size of the header ``header(sampleRate:channels:dataBytes:)`` writes.
    public static let headerSize = 44

    /// A complete WAV file holding `audio`.
    ///
    /// Throws a `badInput` ``SpeechError`` when the audio cannot be described by a WAV header: a
    /// sample rate or channel count out of range, or more than 4 GiB of samples.
    public static func encode(_ audio: PCMAudio) throws -> [UInt8] {
        var file = try header(sampleRate: audio.sampleRate, channels: audio.channels, dataBytes: audio.samples.count * 2)
        file.reserveCapacity(headerSize + audio.samples.count * 2)
        for sample in audio.samples {
            let bits = UInt16(bitPattern: sample)
            file.append(UInt8(truncatingIfNeeded: bits))
            file.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        return file
    }

    /// The 44-byte header of a 16-bit PCM WAV file whose sample data is `dataBytes` long.
    ///
    /// - Parameters:
    ///   - sampleRate: Frames per second (1…4_294_967_295 / block size).
    ///   - channels: Samples per frame (1…65_535).
    ///   - dataBytes: The length of the sample data that follows the header: an even number.
    public static func header(sampleRate: Int, channels: Int, dataBytes: Int) throws -> [UInt8] {
        guard (1...Int(UInt16.max)).contains(channels) else {
            throw SpeechError.badInput("a WAV file cannot hold \(channels) channels")
        }
        let blockAlign = channels * 2
        let (byteRate, overflow) = sampleRate.multipliedReportingOverflow(by: blockAlign)
        guard sampleRate > 0, !overflow, byteRate <= Int(UInt32.max) else {
            throw SpeechError.badInput("a WAV file cannot have a sample rate of \(sampleRate)")
        }
        // The RIFF chunk size counts everything after its own 8 bytes and must fit 32 bits.
        guard dataBytes >= 0, dataBytes % 2 == 0, dataBytes <= Int(UInt32.max) - (headerSize - 8) else {
            throw SpeechError.badInput("\(dataBytes) bytes of samples do not fit a WAV file")
        }
        var header = [UInt8]()
        header.reserveCapacity(headerSize)
        header.append(contentsOf: "RIFF".utf8)
        appendUInt32(UInt32(dataBytes + headerSize - 8), to: &header)
        header.append(contentsOf: "WAVE".utf8)
        header.append(contentsOf: "fmt ".utf8)
        appendUInt32(16, to: &header)  // size of the PCM format chunk
        appendUInt16(1, to: &header)  // WAVE_FORMAT_PCM
        appendUInt16(UInt16(channels), to: &header)
        appendUInt32(UInt32(sampleRate), to: &header)
        appendUInt32(UInt32(byteRate), to: &header)  // bytes per second
        appendUInt16(UInt16(blockAlign), to: &header)
        appendUInt16(16, to: &header)  // bits per sample
        header.append(contentsOf: "data".utf8)
        appendUInt32(UInt32(dataBytes), to: &header)
        return header
    }

    private static func appendUInt16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}
