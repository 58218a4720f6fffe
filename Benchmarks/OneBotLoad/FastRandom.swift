// SPDX-License-Identifier: Apache-2.0

/// A xorshift64* generator for WebSocket masking keys.
///
/// Clients must mask every frame. NIO's default key comes from the system generator, which costs
/// a `getrandom` syscall per frame; the mask only has to be unpredictable to proxies, not
/// cryptographically strong, so a per-connection PRNG is plenty for a benchmark.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    /// Seeds the generator; a zero seed is replaced, since xorshift would stay at zero.
    init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
