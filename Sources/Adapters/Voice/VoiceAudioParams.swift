// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The `audio_params` of a voice `hello`: how the sender's binary frames are encoded.
///
/// A xiaozhi device announces `{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":60}`
/// for what it sends; the hub's hello announces the same four fields for what it sends back (the
/// device reads only `sample_rate` and `frame_duration`). Decoding requires all four fields;
/// whether their values are usable is ``refusalReason`` (a hello with `"format":"mp3"` decodes, and
/// is then refused with a reason the client can read).
///
/// ```swift
/// let params = VoiceAudioParams(format: .opus, sampleRate: 24_000)
/// if let reason = clientParams.refusalReason { /* send an error, close */ }
/// ```
public struct VoiceAudioParams: Codable, Sendable, Hashable {
    /// The encodings a client may use.
    public enum Format: String, Sendable {
        /// One Opus packet per binary message.
        case opus
        /// Little-endian signed 16-bit mono PCM, one frame per binary message (the browser microphone).
        case pcm16
    }

    /// `opus` or `pcm16`; anything else decodes but is refused by ``refusalReason``.
    public var format: String
    /// Samples per second.
    public var sampleRate: Int
    /// Audio channels; only mono (1) is accepted.
    public var channels: Int
    /// Duration of one frame (one binary message), in milliseconds.
    public var frameDuration: Int

    /// Sample rates an Opus stream may have.
    public static let opusSampleRates: Set<Int> = [8_000, 12_000, 16_000, 24_000, 48_000]
    /// Sample rates a PCM16 stream may have.
    public static let pcm16SampleRates: Set<Int> = [16_000]
    /// Frame durations, in milliseconds, either format may use.
    public static let frameDurations: Set<Int> = [10, 20, 40, 60]

    /// What a xiaozhi device sends: Opus, 16 kHz, mono, 60 ms frames.
    public static let device = VoiceAudioParams(format: .opus, sampleRate: 16_000)

    public init(format: Format, sampleRate: Int, channels: Int = 1, frameDuration: Int = 60) {
        self.init(format: format.rawValue, sampleRate: sampleRate, channels: channels, frameDuration: frameDuration)
    }

    /// Params exactly as given, acceptable or not.
    public init(format: String, sampleRate: Int, channels: Int, frameDuration: Int) {
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameDuration = frameDuration
    }

    /// The format when it is one the hub knows.
    public var knownFormat: Format? { Format(rawValue: format) }

    /// Samples in one frame (per channel): 960 for 16 kHz and 60 ms.
    public var samplesPerFrame: Int { sampleRate * frameDuration / 1000 }

    /// Why the hub cannot take a stream with these params, in words for the client; nil when it can.
    ///
    /// Acceptable: mono; Opus at 8, 12, 16, 24 or 48 kHz, or PCM16 at 16 kHz; frames of 10, 20, 40
    /// or 60 ms.
    public var refusalReason: String? {
        guard let known = knownFormat else {
            return "audio_params.format must be \"opus\" or \"pcm16\", not \"\(format.prefix(32))\""
        }
        guard channels == 1 else { return "audio_params.channels must be 1 (mono), not \(channels)" }
        switch known {
        case .opus where !Self.opusSampleRates.contains(sampleRate):
            return "audio_params.sample_rate must be 8000, 12000, 16000, 24000 or 48000 for opus, not \(sampleRate)"
        case .pcm16 where !Self.pcm16SampleRates.contains(sampleRate):
            return "audio_params.sample_rate must be 16000 for pcm16, not \(sampleRate)"
        default:
            break
        }
        guard Self.frameDurations.contains(frameDuration) else {
            return "audio_params.frame_duration must be 10, 20, 40 or 60 (ms), not \(frameDuration)"
        }
        return nil
    }

    /// Whether the hub can take a stream with these params (``refusalReason`` is nil).
    public var isAcceptable: Bool { refusalReason == nil }

    enum CodingKeys: String, CodingKey {
        case format
        case sampleRate = "sample_rate"
        case channels
        case frameDuration = "frame_duration"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        sampleRate = try container.decodeInteger(forKey: .sampleRate)
        channels = try container.decodeInteger(forKey: .channels)
        frameDuration = try container.decodeInteger(forKey: .frameDuration)
    }
}

extension KeyedDecodingContainer {
    /// An `Int` field; a number that is not a whole `Int` (`1.5`, `1e30`) is a `typeMismatch` at
    /// its key, as a string would be (Foundation's own error for it names no field).
    func decodeInteger(forKey key: Key) throws -> Int {
        guard let value = try decodeIntegerIfPresent(forKey: key) else {
            guard contains(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)"))
            }
            throw DecodingError.valueNotFound(Int.self, .init(codingPath: codingPath + [key], debugDescription: "null for \(key.stringValue)"))
        }
        return value
    }

    /// An optional `Int` field, as ``decodeInteger(forKey:)``.
    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        do {
            return try decodeIfPresent(Int.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: codingPath + [key], debugDescription: "not a whole number", underlyingError: error))
        }
    }
}
