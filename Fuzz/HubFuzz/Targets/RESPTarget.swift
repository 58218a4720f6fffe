// SPDX-License-Identifier: Apache-2.0
import Engine
import NIOCore

extension FuzzTarget {
    /// Replies of a Redis server, read by hiredis into RESP values. As with a socket, bytes come in
    /// pieces: fed whole and fed in small pieces, the stream must give the same replies, and an
    /// error in one feeding must be an error in the other.
    static let resp = FuzzTarget(name: "resp", summary: "Redis replies (RESP2): RESPReplyReader over hiredis") { bytes in
        let whole = replies(bytes, pieceSize: max(bytes.count, 1))
        let pieces = replies(bytes, pieceSize: 3)
        expect(whole.replies == pieces.replies, "replies differ between whole and piecewise feeding")
        expect(whole.failed == pieces.failed, "an error in one feeding only")
    }

    /// The replies a fresh reader gives for `bytes` fed `pieceSize` bytes at a time, reading every
    /// reply after each piece as the connection does; whether it stopped on an error.
    private static func replies(_ bytes: UnsafeRawBufferPointer, pieceSize: Int) -> (replies: [RESPValue], failed: Bool) {
        let reader = RESPReplyReader()
        var replies = [RESPValue]()
        var start = 0
        repeat {
            let end = min(start + pieceSize, bytes.count)
            do {
                try reader.feed(ByteBuffer(bytes: bytes[start..<end]))
                while let reply = try reader.next() { replies.append(reply) }
            } catch {
                return (replies, true)
            }
            start = end
        } while start < bytes.count
        return (replies, false)
    }
}
