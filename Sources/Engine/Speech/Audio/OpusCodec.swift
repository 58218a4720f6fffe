// SPDX-License-Identifier: Apache-2.0
import COpus

/// Raw Opus packets to and from samples through libopus, one packet per frame, as the live voice
/// door's devices send and expect them (xiaozhi: 16 kHz mono, 60 ms frames up; 16 or 24 kHz down).
///
/// An encoder or a decoder keeps state from packet to packet, so each stream owns its own codec;
/// it is not shared between threads.
public final class OpusCodec {
    /// The rates libopus encodes and decodes.
    public static let sampleRates: Set<Int> = [8_000, 12_000, 16_000, 24_000, 48_000]
    /// The frame durations libopus takes, in milliseconds (2.5 ms is not offered here).
    public static let frameDurations: Set<Int> = [5, 10, 20, 40, 60]
    /// The largest packet libopus writes for one frame.
    static let maxPacketBytes = 4_000

    public let sampleRate: Int
    public let channels: Int
    /// Samples per channel in one frame.
    public let frameSamples: Int
    private let encoder: OpaquePointer
    private let decoder: OpaquePointer

    /// - Throws: ``SpeechError`` `badInput` for a rate, channel count or frame length libopus lacks.
    public init(sampleRate: Int, channels: Int = 1, frameMilliseconds: Int = 60, bitrate: Int? = nil) throws {
        guard Self.sampleRates.contains(sampleRate) else { throw SpeechError.badInput("Opus takes 8, 12, 16, 24 or 48 kHz, not \(sampleRate) Hz") }
        guard channels == 1 || channels == 2 else { throw SpeechError.badInput("Opus takes 1 or 2 channels, not \(channels)") }
        guard Self.frameDurations.contains(frameMilliseconds) else {
            throw SpeechError.badInput("Opus frames last 5, 10, 20, 40 or 60 ms, not \(frameMilliseconds)")
        }
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameSamples = sampleRate * frameMilliseconds / 1000
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(Int32(sampleRate), Int32(channels), OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else {
            throw SpeechError.badInput("libopus refused the encoder: \(Self.describe(error))")
        }
        guard let decoder = opus_decoder_create(Int32(sampleRate), Int32(channels), &error), error == OPUS_OK else {
            opus_encoder_destroy(encoder)
            throw SpeechError.badInput("libopus refused the decoder: \(Self.describe(error))")
        }
        self.encoder = encoder
        self.decoder = decoder
        if let bitrate { _ = hub_opus_set_bitrate(encoder, Int32(bitrate)) }
    }

    deinit {
        opus_encoder_destroy(encoder)
        opus_decoder_destroy(decoder)
    }

    /// Encodes one frame: exactly ``frameSamples`` × ``channels`` samples.
    public func encode(frame samples: ArraySlice<Int16>) throws -> [UInt8] {
        guard samples.count == frameSamples * channels else {
            throw SpeechError.badInput("an Opus frame here is \(frameSamples * channels) samples, not \(samples.count)")
        }
        var packet = [UInt8](repeating: 0, count: Self.maxPacketBytes)
        let written = samples.withUnsafeBufferPointer { input in
            packet.withUnsafeMutableBufferPointer { output in
                // Both buffers are non-empty (the frame's size was checked), so their addresses exist.
                opus_encode(encoder, input.baseAddress!, Int32(frameSamples), output.baseAddress!, Int32(output.count))
            }
        }
        guard written > 0 else { throw SpeechError.malformed("libopus could not encode the frame: \(Self.describe(written))") }
        return Array(packet.prefix(Int(written)))
    }

    /// Encodes `audio` (at this codec's rate and channels) frame by frame; the last frame is padded
    /// with silence.
    public func encode(_ audio: PCMAudio) throws -> [[UInt8]] {
        guard audio.sampleRate == sampleRate, audio.channels == channels else {
            throw SpeechError.badInput("audio at \(audio.sampleRate) Hz × \(audio.channels) given to an Opus codec at \(sampleRate) Hz × \(channels)")
        }
        let step = frameSamples * channels
        var packets = [[UInt8]]()
        var start = 0
        while start < audio.samples.count {
            let end = min(audio.samples.count, start + step)
            var frame = Array(audio.samples[start..<end])
            if frame.count < step { frame += Array(repeating: 0, count: step - frame.count) }
            packets.append(try encode(frame: frame[...]))
            start = end
        }
        return packets
    }

    /// Decodes one packet into its samples (at most 120 ms of them). A packet libopus cannot read
    /// (a device's broken frame) is `badInput`; the decoder is reset and the stream goes on.
    public func decode(packet: [UInt8]) throws -> [Int16] {
        guard !packet.isEmpty, packet.count <= Self.maxPacketBytes else {
            throw SpeechError.badInput("an Opus packet of \(packet.count) bytes")
        }
        let capacity = sampleRate * 120 / 1000 * channels
        var samples = [Int16](repeating: 0, count: capacity)
        let decoded = packet.withUnsafeBufferPointer { input in
            samples.withUnsafeMutableBufferPointer { output in
                opus_decode(decoder, input.baseAddress, Int32(input.count), output.baseAddress!, Int32(capacity / channels), 0)
            }
        }
        guard decoded >= 0 else {
            _ = hub_opus_reset_decoder(decoder)
            throw SpeechError.badInput("not an Opus packet: \(Self.describe(decoded))")
        }
        return Array(samples.prefix(Int(decoded) * channels))
    }

    static func describe(_ code: Int32) -> String {
        guard let text = opus_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
