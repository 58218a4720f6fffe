// SPDX-License-Identifier: Apache-2.0

/// Comparisons of secrets (tokens, keys, signatures) whose running time does not depend on where
/// the values differ.
public enum ConstantTime {
    /// Whether the two byte strings are equal; every byte of the longer one is looked at.
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }

    /// Whether the two strings' UTF-8 bytes are equal.
    public static func equal(_ lhs: String, _ rhs: String) -> Bool {
        equal(Array(lhs.utf8), Array(rhs.utf8))
    }
}
