// SPDX-License-Identifier: Apache-2.0
import CSampleRate

/// Changes the sample rate of audio with libsamplerate (band-limited sinc interpolation).
///
/// Works block by block, so memory stays near the size of input and output. Any channel count.
///
/// ```swift
/// let sphinxInput = try Resampler().resample(speech.downmixedToMono(), to: 16_000)
/// ```
public struct Resampler: Sendable, Hashable {
    /// libsamplerate's converters, fastest first.
    public enum Quality: Sendable, Hashable {
        /// `SRC_SINC_FASTEST`: 80 dB SNR, the bandwidth of speech models and then some.
        case fastest
        /// `SRC_SINC_MEDIUM_QUALITY`: 121 dB.
        case medium
        /// `SRC_SINC_BEST_QUALITY`: 144 dB.
        case best

        var converter: Int32 {
            switch self {
            case .fastest: Int32(SRC_SINC_FASTEST)
            case .medium: Int32(SRC_SINC_MEDIUM_QUALITY)
            case .best: Int32(SRC_SINC_BEST_QUALITY)
            }
        }
    }

    public var quality: Quality

    /// `.fastest` by default: 22.05 → 16 kHz it runs about twice as fast as `.medium` (930× real
    /// time against 440×; `.best` 125×, Benchmarks/README.md), and its 80 dB are far beyond what
    /// a recognizer hears.
    public init(quality: Quality = .fastest) {
        self.quality = quality
    }

    /// `audio` at `sampleRate` (the same value when the rate is already that).
    /// - Throws: ``SpeechError`` of kind `badInput` for a rate libsamplerate cannot convert
    ///   (a ratio beyond 256 either way), or when libsamplerate fails.
    public func resample(_ audio: PCMAudio, to sampleRate: Int) throws -> PCMAudio {
        guard audio.sampleRate != sampleRate else { return audio }
        let ratio = Double(sampleRate) / Double(audio.sampleRate)
        guard audio.sampleRate > 0, sampleRate > 0, src_is_valid_ratio(ratio) != 0 else {
            throw SpeechError.badInput("cannot resample \(audio.sampleRate) Hz audio to \(sampleRate) Hz")
        }
        let channels = audio.channels
        let frames = audio.frameCount
        var error: Int32 = 0
        guard let state = src_new(quality.converter, Int32(channels), &error) else {
            throw SpeechError.badInput("libsamplerate: \(String(cString: src_strerror(error)))")
        }
        defer { src_delete(state) }

        let blockFrames = 8192
        let outputCapacity = Int((Double(blockFrames) * ratio).rounded(.up)) + 64
        var input = [Float](repeating: 0, count: blockFrames * channels)
        var output = [Float](repeating: 0, count: outputCapacity * channels)
        var converted = [Int16](repeating: 0, count: outputCapacity * channels)
        var result = [Int16]()
        result.reserveCapacity((Int(Double(frames) * ratio) + 64) * channels)

        var start = 0
        repeat {
            let count = min(blockFrames, frames - start)
            let last = start + count == frames
            audio.samples.withUnsafeBufferPointer { samples in
                input.withUnsafeMutableBufferPointer { input in
                    src_short_to_float_array(samples.baseAddress! + start * channels, input.baseAddress!, Int32(count * channels))
                }
            }
            var used = 0
            while true {
                var data = SRC_DATA()
                let generated: Int = input.withUnsafeBufferPointer { input in
                    output.withUnsafeMutableBufferPointer { output in
                        data.data_in = input.baseAddress! + used * channels
                        data.input_frames = count - used
                        data.data_out = output.baseAddress!
                        data.output_frames = outputCapacity
                        data.end_of_input = last ? 1 : 0
                        data.src_ratio = ratio
                        error = src_process(state, &data)
                        return data.output_frames_gen
                    }
                }
                guard error == 0 else { throw SpeechError.badInput("libsamplerate: \(String(cString: src_strerror(error)))") }
                used += data.input_frames_used
                if generated > 0 {
                    output.withUnsafeBufferPointer { output in
                        converted.withUnsafeMutableBufferPointer { converted in
                            src_float_to_short_array(output.baseAddress!, converted.baseAddress!, Int32(generated * channels))
                        }
                    }
                    result.append(contentsOf: converted[0..<generated * channels])
                }
                if used >= count && (!last || generated == 0) { break }
            }
            start += count
        } while start < frames
        return PCMAudio(samples: result, sampleRate: sampleRate, channels: channels)
    }
}
