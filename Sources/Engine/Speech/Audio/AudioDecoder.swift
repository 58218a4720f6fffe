// SPDX-License-Identifier: Apache-2.0
import CSampleRate
import CSndfile

/// Decodes an audio file held in memory into 16-bit samples, within ``AudioLimits``.
///
/// Anything Debian 12's libsndfile 1.2 reads is accepted, recognised from its content (the
/// declared format is only a hint): WAV at any rate and channel count, FLAC, Ogg Vorbis, Ogg
/// Opus, MP3, and the rest of libsndfile's list (AIFF, AU, CAF…). Raw `.pcm` (signed 16-bit
/// little-endian) needs its sample rate and channels from the caller.
///
/// Input that cannot be used, whether empty, oversized, truncated, corrupt, not audio or with a
/// header that lies about its length, throws ``SpeechError`` of kind `badInput`. Nothing is
/// allocated from a header's say-so: the length it claims is checked against the limits and
/// against what so many bytes could hold, and samples are then read in blocks up to the limit.
///
/// ```swift
/// let audio = try AudioDecoder(limits: .init(maxSeconds: 60)).decode(upload, format: .ogg)
/// ```
public struct AudioDecoder: Sendable {
    public var limits: AudioLimits

    public init(limits: AudioLimits = .default) {
        self.limits = limits
    }

    /// Decodes `bytes`.
    /// - Parameters:
    ///   - format: what the sender said it is; only `.pcm` changes anything (headerless samples).
    ///   - rawSampleRate: the sample rate of `.pcm` input (required for it).
    ///   - rawChannels: the channels of `.pcm` input.
    /// - Throws: ``SpeechError`` of kind `badInput`.
    public func decode(
        _ bytes: [UInt8], format: AudioFormat? = nil, rawSampleRate: Int? = nil, rawChannels: Int = 1
    ) throws -> PCMAudio {
        guard !bytes.isEmpty else { throw SpeechError.badInput("the audio is empty (0 bytes)") }
        guard bytes.count <= limits.maxInputBytes else {
            throw SpeechError.badInput("the audio is \(bytes.count) bytes; at most \(limits.maxInputBytes) are accepted")
        }
        if format == .pcm {
            guard let rawSampleRate else {
                throw SpeechError.badInput("raw PCM audio needs its sample rate (and channels) to be given")
            }
            return try decodeRaw(bytes, sampleRate: rawSampleRate, channels: rawChannels)
        }
        return try decodeFile(bytes)
    }

    // MARK: - Raw samples

    private func decodeRaw(_ bytes: [UInt8], sampleRate: Int, channels: Int) throws -> PCMAudio {
        try limits.check(sampleRate: sampleRate, channels: channels)
        let frames = bytes.count / (2 * channels)  // an incomplete last frame is dropped
        guard frames > 0 else { throw SpeechError.badInput("raw PCM audio shorter than one frame (\(bytes.count) bytes)") }
        try checkLength(frames: frames, sampleRate: sampleRate, what: "the audio lasts")
        let samples = [Int16](unsafeUninitializedCapacity: frames * channels) { buffer, count in
            bytes.withUnsafeBytes { raw in
                for index in 0..<frames * channels {
                    buffer[index] = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))
                }
            }
            count = frames * channels
        }
        return PCMAudio(samples: samples, sampleRate: sampleRate, channels: channels)
    }

    // MARK: - Files, through libsndfile

    private func decodeFile(_ bytes: [UInt8]) throws -> PCMAudio {
        let file = SndfileMemoryFile(bytes: bytes)
        var info = SF_INFO()
        let handle: OpaquePointer
        switch file.open(mode: Int32(SFM_READ), info: &info) {
        case .success(let opened): handle = opened
        case .failure(let error): throw SpeechError.badInput("not a readable audio file: \(error.message)")
        }
        defer { sf_close(handle) }

        let channels = Int(info.channels)
        let sampleRate = Int(info.samplerate)
        try limits.check(sampleRate: sampleRate, channels: channels)
        let maxFrames = limits.maxFrames(sampleRate: sampleRate)
        let width = Self.bytesPerSample(format: Int(info.format))

        // The length the header claims, checked before anything is sized from it.
        var expectedFrames: Int?
        if let chunk = WAVEDataChunk(bytes), let declared = chunk.declaredSize, let width {
            let claimed = declared / (width * channels)
            try checkLength(frames: claimed, sampleRate: sampleRate, what: "the WAV header claims")
            guard declared <= chunk.presentSize(fileSize: bytes.count) + 1 else {
                throw SpeechError.badInput(
                    "the WAV file is truncated or its header lies: it declares \(declared) bytes of samples, "
                        + "\(chunk.presentSize(fileSize: bytes.count)) are present")
            }
            expectedFrames = claimed
        } else if info.frames > 0, info.frames < sf_count_t.max {
            let claimed = info.frames > sf_count_t(Int.max / 2) ? Int.max / 2 : Int(info.frames)
            try checkLength(frames: claimed, sampleRate: sampleRate, what: "the header claims")
            let samplesPerByte = width.map { 1.0 / Double($0) } ?? Self.maxCompressedSamplesPerByte
            guard Double(claimed) * Double(channels) <= Double(bytes.count) * samplesPerByte else {
                throw SpeechError.badInput(
                    "the header claims \(claimed) frames, more than \(bytes.count) bytes of this format can hold")
            }
            expectedFrames = claimed
        }

        // Read in blocks; the total is bounded by the limit whatever the header said.
        let blockFrames = 4096
        var samples = [Int16]()
        samples.reserveCapacity(min(expectedFrames ?? blockFrames, maxFrames) * channels)
        var block = [Int16](repeating: 0, count: blockFrames * channels)
        // libsndfile hands float samples to sf_readf_short unscaled (0.5 becomes 0) unless told to
        // scale by the file's peak; they are read as floats and converted at full scale instead.
        let subtype = Int(info.format) & Int(SF_FORMAT_SUBMASK)
        let floatSamples = subtype == Int(SF_FORMAT_FLOAT) || subtype == Int(SF_FORMAT_DOUBLE)
        var floatBlock = [Float](repeating: 0, count: floatSamples ? blockFrames * channels : 0)
        var frames = 0
        while true {
            let read: sf_count_t
            if floatSamples {
                read = floatBlock.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(blockFrames)) }
                if read > 0 {
                    floatBlock.withUnsafeBufferPointer { source in
                        block.withUnsafeMutableBufferPointer { target in
                            src_float_to_short_array(source.baseAddress, target.baseAddress, Int32(Int(read) * channels))
                        }
                    }
                }
            } else {
                read = block.withUnsafeMutableBufferPointer { sf_readf_short(handle, $0.baseAddress, sf_count_t(blockFrames)) }
            }
            guard read > 0 else { break }
            frames += Int(read)
            guard frames <= maxFrames else {
                throw SpeechError.badInput("the audio lasts more than \(Self.seconds(limits.maxSeconds)) s, the most accepted")
            }
            samples.append(contentsOf: block[0..<Int(read) * channels])
        }
        if sf_error(handle) != 0 {
            throw SpeechError.badInput("the audio is corrupt or truncated: \(String(cString: sf_strerror(handle)))")
        }
        if let expectedFrames, frames + max(expectedFrames / 100, 2048) < expectedFrames {
            throw SpeechError.badInput("the audio is truncated: its header promises \(expectedFrames) frames, \(frames) could be decoded")
        }
        guard frames > 0 else { throw SpeechError.badInput("the audio file holds no samples") }
        return PCMAudio(samples: samples, sampleRate: sampleRate, channels: channels)
    }

    private func checkLength(frames: Int, sampleRate: Int, what: String) throws {
        guard frames <= limits.maxFrames(sampleRate: sampleRate) else {
            throw SpeechError.badInput(
                "\(what) \(Self.seconds(Double(frames) / Double(sampleRate))) s of audio; "
                    + "at most \(Self.seconds(limits.maxSeconds)) s are accepted")
        }
    }

    /// Bytes per sample of a libsndfile format whose samples are stored uncompressed; nil for
    /// compressed ones (FLAC's subtype names only its bit depth).
    static func bytesPerSample(format: Int) -> Int? {
        guard format & Int(SF_FORMAT_TYPEMASK) != Int(SF_FORMAT_FLAC) else { return nil }
        return switch format & Int(SF_FORMAT_SUBMASK) {
        case Int(SF_FORMAT_PCM_S8), Int(SF_FORMAT_PCM_U8), Int(SF_FORMAT_ULAW), Int(SF_FORMAT_ALAW): 1
        case Int(SF_FORMAT_PCM_16): 2
        case Int(SF_FORMAT_PCM_24): 3
        case Int(SF_FORMAT_PCM_32), Int(SF_FORMAT_FLOAT): 4
        case Int(SF_FORMAT_DOUBLE): 8
        default: nil
        }
    }

    /// The most samples a compressed format's byte can plausibly stand for. FLAC holds digital
    /// silence at about 345 samples a byte, Ogg Opus 200, Vorbis 150, MP3 22 (measured with
    /// libsndfile 1.2 at 22.05 kHz): 4096 leaves room and still catches a length no file that small could hold.
    static let maxCompressedSamplesPerByte = 4096.0

    private static func seconds(_ value: Double) -> String {
        if value >= 10 || value == value.rounded() { return String(Int(value.rounded())) }
        return String(Double(Int(value * 100)) / 100)
    }
}
