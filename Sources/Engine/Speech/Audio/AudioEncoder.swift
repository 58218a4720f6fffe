// SPDX-License-Identifier: Apache-2.0
import CSndfile

/// Encodes samples into an audio file in memory: WAV (16-bit), FLAC, Ogg Vorbis, Ogg Opus and MP3
/// through libsndfile, and raw `.pcm` (signed 16-bit little-endian) directly.
///
/// Whether libsndfile can write a format is asked at run time (``canEncode(_:)``); a format it
/// cannot write, or a sample rate or channel count it refuses for that format, throws
/// ``SpeechError`` of kind `unsupported`.
///
/// Opus and MP3 take only some sample rates. Audio at another rate is resampled (``Resampler``)
/// to the lowest rate the codec takes above it (48 kHz at most): 22.05 kHz becomes 24 kHz Opus or
/// stays 22.05 kHz MP3, 44.1 kHz becomes 48 kHz Opus. The decoded file then has that rate.
///
/// ```swift
/// let ogg = try AudioEncoder().encode(speech, as: .opus)
/// ```
public struct AudioEncoder: Sendable {
    /// libsndfile's compression level for the lossy and FLAC formats (0 = best quality or
    /// fastest FLAC, 1 = smallest); nil keeps libsndfile's default.
    public var compressionLevel: Double?
    /// How audio is resampled when the codec needs another rate.
    public var resampler: Resampler

    public init(compressionLevel: Double? = nil, resampler: Resampler = Resampler()) {
        self.compressionLevel = compressionLevel
        self.resampler = resampler
    }

    /// Whether `format` can be written here: libsndfile on this machine accepts it (`sf_format_check`).
    public static func canEncode(_ format: AudioFormat) -> Bool {
        guard let type = sndfileFormat(format) else { return format == .pcm }
        var info = SF_INFO()
        info.samplerate = 48_000
        info.channels = 1
        info.format = type
        return sf_format_check(&info) != 0
    }

    /// Encodes `audio` as `format`.
    /// - Throws: ``SpeechError`` of kind `unsupported` when the format (or its rate or channels)
    ///   cannot be written, `badInput` for audio without a sample rate.
    public func encode(_ audio: PCMAudio, as format: AudioFormat) throws -> [UInt8] {
        guard audio.sampleRate > 0 else { throw SpeechError.badInput("audio without a sample rate cannot be encoded") }
        guard let type = Self.sndfileFormat(format) else { return Self.rawPCM(audio) }
        var audio = audio
        if let rates = Self.codecRates[format], !rates.contains(audio.sampleRate) {
            let target = rates.first { $0 >= audio.sampleRate } ?? rates.last!
            audio = try resampler.resample(audio, to: target)
        }
        var info = SF_INFO()
        info.samplerate = Int32(clamping: audio.sampleRate)
        info.channels = Int32(clamping: audio.channels)
        info.format = type
        guard sf_format_check(&info) != 0 else {
            throw SpeechError.unsupported(
                "libsndfile cannot write \(format.rawValue) at \(audio.sampleRate) Hz with \(audio.channels) channels")
        }
        let file = SndfileMemoryFile()
        let handle: OpaquePointer
        switch file.open(mode: Int32(SFM_WRITE), info: &info) {
        case .success(let opened): handle = opened
        case .failure(let error):
            throw SpeechError.unsupported("libsndfile cannot write this \(format.rawValue): \(error.message)")
        }
        var closed = false
        defer { if !closed { sf_close(handle) } }
        if var level = compressionLevel {
            level = min(max(level, 0), 1)
            sf_command(handle, Int32(SFC_SET_COMPRESSION_LEVEL), &level, Int32(MemoryLayout<Double>.size))
        }
        let frames = audio.frameCount
        let written = audio.samples.withUnsafeBufferPointer { sf_writef_short(handle, $0.baseAddress, sf_count_t(frames)) }
        guard written == sf_count_t(frames) else {
            throw SpeechError.unsupported("libsndfile failed writing \(format.rawValue): \(String(cString: sf_strerror(handle)))")
        }
        closed = true
        guard sf_close(handle) == 0 else {
            throw SpeechError.unsupported("libsndfile failed finishing \(format.rawValue)")
        }
        return file.bytes
    }

    // MARK: - Formats

    /// libsndfile's major and sub type for `format`; nil for raw PCM, which needs no library.
    static func sndfileFormat(_ format: AudioFormat) -> Int32? {
        switch format {
        case .wav: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .flac: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .ogg: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        case .opus: Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)
        case .mp3: Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        case .pcm: nil
        }
    }

    /// The sample rates a codec takes, ascending; libsndfile's `sf_format_check` accepts any rate
    /// for them, but opening the file fails.
    static let codecRates: [AudioFormat: [Int]] = [
        .opus: [8_000, 12_000, 16_000, 24_000, 48_000],
        .mp3: [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000],
    ]

    private static func rawPCM(_ audio: PCMAudio) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: audio.samples.count * 2) { buffer, count in
            for (index, sample) in audio.samples.enumerated() {
                let value = UInt16(bitPattern: sample)
                buffer[2 * index] = UInt8(truncatingIfNeeded: value)
                buffer[2 * index + 1] = UInt8(truncatingIfNeeded: value >> 8)
            }
            count = audio.samples.count * 2
        }
    }
}
