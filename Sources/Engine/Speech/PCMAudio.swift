// SPDX-License-Identifier: Apache-2.0

/// Decoded audio in memory: signed 16-bit samples, interleaved when there is more than one channel.
public struct PCMAudio: Sendable, Hashable {
    /// The samples, frame by frame (`channels` samples per frame).
    public var samples: [Int16]
    /// Frames per second.
    public var sampleRate: Int
    /// Samples per frame (1 = mono).
    public var channels: Int

    public init(samples: [Int16], sampleRate: Int, channels: Int = 1) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = max(1, channels)
    }

    /// Frames (samples per channel).
    public var frameCount: Int { samples.count / channels }

    /// Length in seconds.
    public var seconds: Double { sampleRate > 0 ? Double(frameCount) / Double(sampleRate) : 0 }
}
