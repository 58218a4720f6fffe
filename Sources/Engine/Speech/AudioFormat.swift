// SPDX-License-Identifier: Apache-2.0

/// An audio container and codec the hub reads or writes (through libsndfile; `opus` is Ogg Opus).
public enum AudioFormat: String, Sendable, Hashable, CaseIterable {
    /// RIFF WAVE, 16-bit PCM.
    case wav
    /// MPEG layer III.
    case mp3
    /// Ogg Vorbis.
    case ogg
    /// Ogg Opus.
    case opus
    case flac
    /// Raw signed 16-bit little-endian samples, no header (rate and channels agreed elsewhere).
    case pcm

    /// The media type for HTTP.
    public var mediaType: String {
        switch self {
        case .wav: "audio/wav"
        case .mp3: "audio/mpeg"
        case .ogg: "audio/ogg"
        case .opus: "audio/ogg; codecs=opus"
        case .flac: "audio/flac"
        case .pcm: "audio/L16"
        }
    }

    /// The usual file name extension.
    public var fileExtension: String {
        switch self {
        case .ogg: "ogg"
        case .opus: "opus"
        default: rawValue
        }
    }
}
