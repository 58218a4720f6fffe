// SPDX-License-Identifier: Apache-2.0

/// Conversions between what speech providers give and what doors need, through libsndfile
/// (``AudioDecoder``, ``AudioEncoder``).
public enum SpeechAudio {
    /// The samples of `speech`, decoding an encoded file (bounded by ``AudioLimits/default``).
    public static func pcm(from speech: SynthesizedSpeech) throws -> PCMAudio {
        switch speech {
        case .pcm(let pcm): pcm
        case .encoded(let bytes, let format): try AudioDecoder().decode(bytes, format: format == .pcm ? nil : format)
        }
    }

    /// `audio` encoded as `format`.
    public static func encode(_ audio: PCMAudio, as format: AudioFormat) throws -> [UInt8] {
        try AudioEncoder().encode(audio, as: format)
    }

    /// `speech` as a file of `format`: passed through when the provider made that format already,
    /// else decoded and encoded again.
    public static func render(_ speech: SynthesizedSpeech, as format: AudioFormat) throws -> [UInt8] {
        if case .encoded(let bytes, let made) = speech, made == format { return bytes }
        return try encode(try pcm(from: speech), as: format)
    }

    /// The format an upload says it has, by its file name's extension or its media type; nil when
    /// neither says (the decoder then reads the file's header).
    public static func format(filename: String?, contentType: String?) -> AudioFormat? {
        if let filename, let dot = filename.lastIndex(of: ".") {
            switch filename[filename.index(after: dot)...].lowercased() {
            case "wav", "wave": return .wav
            case "mp3", "mpga", "mpeg": return .mp3
            case "ogg", "oga": return .ogg
            case "opus": return .opus
            case "flac": return .flac
            default: break
            }
        }
        let type = (contentType ?? "").lowercased()
        if type.hasPrefix("audio/wav") || type.hasPrefix("audio/x-wav") || type.hasPrefix("audio/wave") { return .wav }
        if type.hasPrefix("audio/mpeg") || type.hasPrefix("audio/mp3") { return .mp3 }
        if type.hasPrefix("audio/flac") || type.hasPrefix("audio/x-flac") { return .flac }
        if type.hasPrefix("audio/ogg") { return type.contains("opus") ? .opus : .ogg }
        if type.hasPrefix("audio/opus") { return .opus }
        return nil
    }
}
