// SPDX-License-Identifier: Apache-2.0

extension PCMAudio {
    /// The audio as one channel, each frame the mean of its channels (itself when already mono).
    public func downmixedToMono() -> PCMAudio {
        guard channels > 1 else { return self }
        let channels = channels
        let frames = frameCount
        let mono = [Int16](unsafeUninitializedCapacity: frames) { buffer, count in
            samples.withUnsafeBufferPointer { samples in
                for frame in 0..<frames {
                    var sum = 0
                    for channel in 0..<channels { sum += Int(samples[frame * channels + channel]) }
                    buffer[frame] = Int16(sum / channels)
                }
            }
            count = frames
        }
        return PCMAudio(samples: mono, sampleRate: sampleRate, channels: 1)
    }
}
