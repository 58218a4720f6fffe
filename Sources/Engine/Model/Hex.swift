// SPDX-License-Identifier: Apache-2.0

/// Lower-case hexadecimal text of bytes (digests, signatures, cache keys).
public enum Hex {
    /// Two digits per byte.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
