// SPDX-License-Identifier: Apache-2.0
import CHiredis
import NIOCore

/// One Redis command: a name and binary-safe arguments.
///
/// ```swift
/// let reply = try await client.send(RedisCommand("SET", "greeting", .bytes(payload), "EX", 60))
/// ```
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// `GET`, `SET`, …
    public var name: String
    /// The arguments after the name.
    public var arguments: [RedisArgument]

    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments: arguments)
    }

    public init(_ name: String, arguments: [RedisArgument]) {
        self.name = name
        self.arguments = arguments
    }

    /// The command name only: arguments may be secrets (AUTH) or large values.
    public var description: String { name }

    /// The size of the command in RESP, as `redisFormatCommandArgv` writes it.
    var encodedSize: Int {
        var size = 3 + Self.digits(arguments.count + 1) + Self.bulkSize(name.utf8.count)  // *<count>\r\n
        for index in arguments.indices { size += Self.bulkSize(arguments[index].count) }
        return size
    }

    /// `$<length>\r\n<bytes>\r\n`
    private static func bulkSize(_ length: Int) -> Int { 5 + digits(length) + length }

    private static func digits(_ value: Int) -> Int {
        var (value, digits) = (value, 1)
        while value >= 10 { (value, digits) = (value / 10, digits + 1) }
        return digits
    }

    /// Appends the command in RESP, formatted by hiredis' `redisFormatCommandArgv` (lengths passed
    /// explicitly, so NUL and CRLF inside arguments are kept).
    func encode(into buffer: inout ByteBuffer) {
        let count = arguments.count + 1
        var total = name.utf8.count
        for index in arguments.indices { total += arguments[index].count }
        // hiredis takes a vector of pointers that must all be valid at once: the vectors and the
        // bytes of the name and arguments share one scratch area (on the stack when small),
        // rather than each argument's storage being pinned by its own nested closure.
        let vector = count * MemoryLayout<Int>.stride
        withUnsafeTemporaryAllocation(byteCount: 2 * vector + total, alignment: MemoryLayout<Int>.alignment) { scratch in
            let base = scratch.baseAddress!
            let pointers = base.bindMemory(to: UnsafePointer<CChar>?.self, capacity: count)
            let lengths = (base + vector).bindMemory(to: Int.self, capacity: count)
            var cursor = base + 2 * vector
            func place(_ index: Int, _ length: Int) -> UnsafeMutableRawBufferPointer {
                pointers[index] = UnsafePointer(cursor.assumingMemoryBound(to: CChar.self))
                lengths[index] = length
                defer { cursor += length }
                return UnsafeMutableRawBufferPointer(start: cursor, count: length)
            }
            place(0, name.utf8.count).copyBytes(from: name.utf8)
            for index in arguments.indices {
                arguments[index].copyBytes(to: place(index + 1, arguments[index].count))
            }
            var target: UnsafeMutablePointer<CChar>?
            let length = redisFormatCommandArgv(&target, Int32(count), pointers, lengths)
            guard length > 0, let target else { preconditionFailure("redisFormatCommandArgv failed (out of memory)") }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
            redisFreeCommand(target)
        }
    }
}

/// One argument of a ``RedisCommand``.
///
/// Text is kept as the `String` it came as (building a command converts nothing); its bytes are
/// copied once, into the encoder's scratch area, when the command is sent. Bytes are kept as given.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    private enum Storage: Sendable {
        case text(String)
        case bytes([UInt8])
    }

    private var storage: Storage

    /// The argument's bytes as sent.
    public var bytes: [UInt8] {
        get {
            switch storage {
            case .text(let text): Array(text.utf8)
            case .bytes(let bytes): bytes
            }
        }
        set { storage = .bytes(newValue) }
    }

    public init(_ text: String) { storage = .text(text) }
    public init<Value: BinaryInteger>(_ value: Value) { storage = .text(String(value)) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }

    /// Raw bytes, sent as they are.
    public static func bytes(_ bytes: [UInt8]) -> RedisArgument {
        var argument = RedisArgument("")
        argument.storage = .bytes(bytes)
        return argument
    }

    /// The number of bytes sent.
    var count: Int {
        switch storage {
        case .text(let text): text.utf8.count
        case .bytes(let bytes): bytes.count
        }
    }

    /// Copies the argument's bytes (``count`` of them) to `target`.
    func copyBytes(to target: UnsafeMutableRawBufferPointer) {
        switch storage {
        case .text(let text): target.copyBytes(from: text.utf8)
        case .bytes(let bytes): target.copyBytes(from: bytes)
        }
    }

    /// Calls `body` with the argument's bytes, valid only during the call.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch storage {
        case .text(var text):
            text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        case .bytes(let bytes):
            bytes.withUnsafeBytes(body)
        }
    }

    public static func == (lhs: RedisArgument, rhs: RedisArgument) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
