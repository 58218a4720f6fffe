// SPDX-License-Identifier: Apache-2.0

/// Where a RIFF WAVE file's `data` chunk starts and how long its header says it is.
///
/// libsndfile quietly shortens a `data` chunk that runs past the end of the file (it logs "should
/// be" and carries on), so a truncated WAV, or a 1 KB file whose header claims ten hours, reads as
/// a short valid one. ``AudioDecoder`` compares this declared size with the bytes that follow.
struct WAVEDataChunk: Equatable {
    /// Offset of the first sample byte.
    let offset: Int
    /// The size the header declares, in bytes (nil when it is 0 or 0xFFFFFFFF, which streaming
    /// writers put there to mean "unknown").
    let declaredSize: Int?

    /// Finds the `data` chunk by walking the chunks after `RIFF....WAVE`; nil when `bytes` is not
    /// RIFF WAVE or no `data` chunk header is within it.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            return nil
        }
        var cursor = 12
        while cursor + 8 <= bytes.count {
            let size = Int(bytes[cursor + 4]) | Int(bytes[cursor + 5]) << 8 | Int(bytes[cursor + 6]) << 16 | Int(bytes[cursor + 7]) << 24
            if bytes[cursor..<cursor + 4].elementsEqual("data".utf8) {
                offset = cursor + 8
                declaredSize = size == 0 || size == 0xFFFF_FFFF ? nil : size
                return
            }
            cursor += 8 + size + (size & 1)  // chunks are padded to an even length
        }
        return nil
    }

    /// Bytes of the `data` chunk present in a file of `fileSize` bytes.
    func presentSize(fileSize: Int) -> Int { max(0, fileSize - offset) }
}
