// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct ServerSentEventParserTests {
    /// A stream in the shape providers send: keep-alive comments, named events, ids, multi-line data,
    /// non-ASCII text, every kind of line end.
    static let stream: [UInt8] = {
        let parts: [String] = [
            "\u{FEFF}: keep-alive\n\n",
            "data: {\"a\":1}\n\n",
            "event: delta\r\nid: 7\r\ndata: first line\r\ndata:second line\r\n\r\n",
            ": ping\r\r",
            "data: 你好 😀\r\rdata\n\n",
            "data:  two spaces\nignored-field: x\nretry: 10\n\n",
            "data: [DONE]\n\n",
        ]
        return Array(parts.joined().utf8)
    }()

    static let expected = [
        ServerSentEvent(event: nil, data: #"{"a":1}"#, id: nil),
        ServerSentEvent(event: "delta", data: "first line\nsecond line", id: "7"),
        ServerSentEvent(event: nil, data: "你好 😀", id: "7"),
        ServerSentEvent(event: nil, data: "", id: "7"),
        ServerSentEvent(event: nil, data: " two spaces", id: "7"),
        ServerSentEvent(event: nil, data: "[DONE]", id: "7"),
    ]

    @Test func wholeStream() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Self.stream) == Self.expected)
        #expect(parser.commentCount == 2)
        #expect(parser.finish() == [])
    }

    @Test func oneByteAtATime() throws {
        var parser = ServerSentEventParser()
        var events = [ServerSentEvent]()
        for byte in Self.stream { events += try parser.feed([byte]) }
        #expect(events == Self.expected)
        #expect(parser.commentCount == 2)
    }

    @Test func splitAtEveryPosition() throws {
        for cut in 0...Self.stream.count {
            var parser = ServerSentEventParser()
            let events = try parser.feed(Self.stream[..<cut]) + parser.feed(Self.stream[cut...])
            #expect(events == Self.expected, "split at byte \(cut)")
            #expect(parser.commentCount == 2, "split at byte \(cut)")
        }
    }

    @Test func randomChunkSizes() throws {
        var generator = SeededGenerator(seed: 0x5EE5)
        for round in 0..<200 {
            var parser = ServerSentEventParser()
            var events = [ServerSentEvent]()
            var start = 0
            while start < Self.stream.count {
                let size = Int.random(in: 1...16, using: &generator)
                let end = min(Self.stream.count, start + size)
                events += try parser.feed(Self.stream[start..<end])
                start = end
            }
            #expect(events == Self.expected, "round \(round)")
        }
    }

    @Test func crAtTheEndOfOneChunkAndLFAtTheStartOfTheNext() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: a\r".utf8)) == [])
        // The \n completes the \r\n of the data line; it is not a blank line that dispatches.
        #expect(try parser.feed(Array("\ndata: b\r".utf8)) == [])
        #expect(try parser.feed(Array("\n".utf8)) == [])
        #expect(try parser.feed(Array("\r".utf8)) == [ServerSentEvent(event: nil, data: "a\nb", id: nil)])
        #expect(try parser.feed(Array("\ndata: c\r".utf8)) == [])
        #expect(try parser.feed(Array("\n\r\n".utf8)) == [ServerSentEvent(event: nil, data: "c", id: nil)])
    }

    @Test func lineEndStyles() throws {
        for end in ["\n", "\r\n", "\r"] {
            var parser = ServerSentEventParser()
            let text = "data: x\(end)data: y\(end)\(end)data: z\(end)\(end)"
            #expect(
                try parser.feed(Array(text.utf8)) == [
                    ServerSentEvent(event: nil, data: "x\ny", id: nil), ServerSentEvent(event: nil, data: "z", id: nil),
                ], "line end \(end.unicodeScalars.map { $0.value })")
        }
    }

    @Test func byteOrderMarkOnlyAtTheStart() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed([0xEF, 0xBB]) == [])
        #expect(try parser.feed(Array([0xBF] + "data: x\n\n".utf8)) == [ServerSentEvent(event: nil, data: "x", id: nil)])
        // A BOM later in the stream is part of the line (here it makes an unknown field, ignored).
        #expect(try parser.feed(Array([0xEF, 0xBB, 0xBF] + "data: y\n\n".utf8)) == [])
    }

    @Test func commentsAreCounted() throws {
        var parser = ServerSentEventParser()
        _ = try parser.feed(Array(": keep-alive\n\n:\n: x\ndata: 1\n\n".utf8))
        #expect(parser.commentCount == 3)
    }

    @Test func eventWithoutTrailingBlankLineIsDropped() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: complete\n\ndata: partial\n".utf8)) == [ServerSentEvent(event: nil, data: "complete", id: nil)])
        #expect(parser.finish() == [])
        // The dropped event does not leak into the next stream fed to the same parser.
        #expect(try parser.feed(Array("data: next\n\n".utf8)) == [ServerSentEvent(event: nil, data: "next", id: nil)])
    }

    @Test func blankLinesWithoutDataDispatchNothing() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("\n\n\nevent: x\n\nid: 1\n\n".utf8)) == [])
        // The event name was reset by the blank line; the id persists.
        #expect(try parser.feed(Array("data: d\n\n".utf8)) == [ServerSentEvent(event: nil, data: "d", id: "1")])
    }

    @Test func dataWithoutSpaceAndExtraSpaces() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("data:{\"x\":1}\n\ndata:   \n\ndata::colon\n\n".utf8))
        #expect(events.map(\.data) == [#"{"x":1}"#, "  ", ":colon"])
    }

    @Test func lineTooLong() throws {
        var parser = ServerSentEventParser(maxLineBytes: 8)
        // Exactly at the limit is fine.
        #expect(try parser.feed(Array("data: 12\n\n".utf8)) == [ServerSentEvent(event: nil, data: "12", id: nil)])
        #expect(throws: ServerSentEventParser.LineTooLong.self) { try parser.feed(Array("data: 123\n\n".utf8)) }
        // Also when the long line arrives in small pieces.
        var pieces = ServerSentEventParser(maxLineBytes: 8)
        #expect(throws: ServerSentEventParser.LineTooLong.self) {
            for byte in "data: 123456".utf8 { _ = try pieces.feed([byte]) }
        }
    }
}
