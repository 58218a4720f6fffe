// SPDX-License-Identifier: Apache-2.0
import Engine

extension FuzzTarget {
    /// An upstream's `text/event-stream`. The parser promises chunks of any size, so the stream fed
    /// whole and fed one byte at a time must give the same events and the same error.
    static let serverSentEvents = FuzzTarget(name: "sse", summary: "server-sent event streams: ServerSentEventParser") { bytes in
        let limit = 512
        var whole = ServerSentEventParser(maxLineBytes: limit)
        let wholeEvents = try? whole.feed(bytes)
        var split = ServerSentEventParser(maxLineBytes: limit)
        var splitEvents: [ServerSentEvent]? = []
        for byte in bytes {
            do {
                splitEvents! += try split.feed(CollectionOfOne(byte))
            } catch {
                splitEvents = nil
                break
            }
        }
        expect((wholeEvents == nil) == (splitEvents == nil), "a line too long for one feeding but not the other")
        guard let wholeEvents, let splitEvents else { return }
        expect(wholeEvents == splitEvents, "events differ between whole and byte-by-byte feeding")
        expect(whole.commentCount == split.commentCount, "comment counts differ between whole and byte-by-byte feeding")
        _ = whole.finish()
    }
}
