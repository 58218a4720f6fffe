// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Testing

@testable import Engine

/// RESP through hiredis: `redisFormatCommandArgv` out, `redisReader` in.
struct RESPCodecTests {
    private func encoded(_ command: RedisCommand) -> [UInt8] {
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test func commandsAreBinarySafeArrays() {
        #expect(encoded(RedisCommand("GET", "k")) == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
        #expect(encoded(RedisCommand("SET", "k", .bytes([0, 13, 10]))) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10, 13, 10])
        #expect(encoded(RedisCommand("SET", "", .bytes([]))) == Array("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n".utf8))
        #expect(encoded(RedisCommand("EXPIRE", "k", 60)) == Array("*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n60\r\n".utf8))
        #expect(encoded(RedisCommand("ECHO", "é😀")) == Array("*2\r\n$4\r\nECHO\r\n$6\r\né😀\r\n".utf8))
    }

    /// The size the client reserves for a command is the size hiredis writes, at every digit
    /// boundary of counts and lengths (a short guess would grow the buffer, a long one waste it).
    @Test(arguments: [0, 1, 9, 10, 99, 100, 65_535, 1 << 20])
    func encodedSizeIsExact(length: Int) {
        let value = RedisArgument.bytes(Array(repeating: 0x0d, count: length))
        let commands = [
            RedisCommand("SET", "k", value), RedisCommand("PING"), RedisCommand("", arguments: []),
            RedisCommand("DEL", arguments: Array(repeating: "key", count: length > 1000 ? 1000 : length)),
            RedisCommand("ECHO", RedisArgument(String(repeating: "é", count: min(length, 5000)))),
        ]
        for command in commands {
            #expect(command.encodedSize == encoded(command).count, "\(command) with \(length)")
        }
    }

    @Test func commandDescriptionNeverShowsArguments() {
        #expect("\(RedisCommand("AUTH", "user", "hunter2"))" == "AUTH")
    }

    private let stream =
        "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\na\r\nb\u{0}\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n+\r\n$0\r\n\r\n"
    private let expected: [RESPValue] = [
        .simpleString("OK"), .error("ERR bad"), .integer(-42), .bulkString(Array("a\r\nb\u{0}".utf8)), .null, .null, .array([]),
        .array([.integer(1), .array([.bulkString([120]), .null]), .simpleString("")]), .bulkString([]),
    ]

    @Test func repliesDecodeWhole() throws {
        let reader = RESPReplyReader()
        try reader.feed(ByteBuffer(string: stream))
        var values = [RESPValue]()
        while let value = try reader.next() { values.append(value) }
        #expect(values == expected)
    }

    @Test func repliesDecodeFedOneByteAtATime() throws {
        let reader = RESPReplyReader()
        var values = [RESPValue]()
        for byte in Array(stream.utf8) {
            try reader.feed(ByteBuffer(bytes: [byte]))
            while let value = try reader.next() { values.append(value) }
        }
        #expect(values == expected)
    }

    @Test func textAndBytesArgumentsAreTheSameArgument() {
        let text = RedisArgument("naïve")
        let bytes = RedisArgument.bytes(Array("naïve".utf8))
        #expect(text == bytes)
        #expect(text.hashValue == bytes.hashValue)
        #expect(text.bytes == Array("naïve".utf8))
        #expect(RedisArgument(-42).bytes == Array("-42".utf8))
        var changed = text
        changed.bytes = [1, 2]
        #expect(changed == .bytes([1, 2]) && changed != text)
    }

    @Test func nestedArraysCloseAtEveryDepthAcrossAnySplit() throws {
        // Empty arrays inside arrays, and an element that closes three arrays at once.
        let nested = "*4\r\n*0\r\n*2\r\n:1\r\n*1\r\n*0\r\n$1\r\nx\r\n+PONG\r\n*2\r\n*1\r\n*1\r\n:5\r\n:6\r\n"
        let want: [RESPValue] = [
            .array([.array([]), .array([.integer(1), .array([.array([])])]), .bulkString([120]), .simpleString("PONG")]),
            .array([.array([.array([.integer(5)])]), .integer(6)]),
        ]
        let bytes = Array((stream + nested).utf8)
        for size in [3, 7, 64] {
            let reader = RESPReplyReader()
            var values = [RESPValue]()
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + size)
                try reader.feed(ByteBuffer(bytes: bytes[offset..<end]))
                while let value = try reader.next() { values.append(value) }
                offset = end
            }
            #expect(values == expected + want, "pieces of \(size) bytes")
        }
    }

    @Test func garbageIsAProtocolError() throws {
        let reader = RESPReplyReader()
        try? reader.feed(ByteBuffer(string: "HTTP/1.1 200 OK\r\n"))
        #expect(throws: RedisError.self) { _ = try reader.next() }
    }

    @Test func valueAccessors() {
        #expect(RESPValue.bulkString(Array("12".utf8)).integer == 12)
        #expect(RESPValue.integer(3).integer == 3)
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.array([.null]).array == [.null])
    }
}
