// SPDX-License-Identifier: Apache-2.0

/// A fixed-size log-linear latency histogram in microseconds, in the spirit of HdrHistogram.
///
/// Values below 128 µs get one bucket each. Above that, every power of two is split into 64
/// equal sub-buckets, so a reported percentile is within 1/64 (≈1.6 %) of the true sample.
/// Recording is O(1) and allocation-free after the first sample (the buckets are allocated then,
/// so the many histograms of idle connections cost nothing); histograms from several connections
/// merge by adding counts. The exact minimum, maximum and sum are kept beside the buckets.
struct LatencyHistogram: Sendable {
    /// Sub-buckets per power of two (2^subBucketBits).
    private static let subBucketBits = 6
    private static let subBucketCount = 1 << subBucketBits
    /// Values below this are recorded exactly.
    private static let linearLimit: UInt64 = 2 << subBucketBits
    /// Enough buckets for any `UInt64`.
    private static let bucketCount = Int(linearLimit) + (64 - subBucketBits - 1) * subBucketCount

    /// Empty until the first sample.
    private var counts: [UInt64] = []
    /// Number of recorded samples.
    private(set) var count: UInt64 = 0
    /// Sum of all samples, in µs.
    private(set) var sum: UInt64 = 0
    /// Smallest sample, in µs (`UInt64.max` when empty).
    private(set) var min: UInt64 = .max
    /// Largest sample, in µs.
    private(set) var max: UInt64 = 0

    init() {}

    /// Records one sample.
    mutating func record(microseconds value: UInt64) {
        allocateBuckets()
        counts[Self.bucketIndex(value)] += 1
        count += 1
        sum &+= value
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Adds every sample of `other` to this histogram.
    mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        allocateBuckets()
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        sum &+= other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// Mean of all samples in µs, or 0 when empty.
    var mean: Double { count == 0 ? 0 : Double(sum) / Double(count) }

    /// The value at `percentile` (0…100) in µs: the midpoint of the bucket holding the sample of
    /// that rank, clamped to the exact min/max. Returns 0 when empty.
    func value(atPercentile percentile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((percentile / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank {
                let (low, high) = Self.bucketBounds(index)
                let mid = low + (high - low) / 2
                return Swift.min(Swift.max(mid, min), max)
            }
        }
        return max
    }

    private mutating func allocateBuckets() {
        if counts.isEmpty { counts = [UInt64](repeating: 0, count: Self.bucketCount) }
    }

    /// Maps a value to its bucket.
    private static func bucketIndex(_ value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount  // >= subBucketBits + 1
        let shift = highestBit - subBucketBits  // >= 1
        let sub = Int(value >> UInt64(shift)) - subBucketCount  // 0..<subBucketCount
        return Int(linearLimit) + (shift - 1) * subBucketCount + sub
    }

    /// Inclusive value bounds of a bucket.
    private static func bucketBounds(_ index: Int) -> (UInt64, UInt64) {
        if index < Int(linearLimit) { return (UInt64(index), UInt64(index)) }
        let offset = index - Int(linearLimit)
        let shift = offset / subBucketCount + 1
        let sub = UInt64(offset % subBucketCount + subBucketCount)
        let low = sub << UInt64(shift)
        let high = ((sub + 1) << UInt64(shift)) &- 1
        return (low, high)
    }
}
