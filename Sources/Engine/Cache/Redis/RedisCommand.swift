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

    /// Appends the command in RESP, formatted by hiredis' `redisFormatCommandArgv` (lengths passed
    /// explicitly, so NUL and CRLF inside arguments are kept).
    func encode(into buffer: inout ByteBuffer) {
        var total = name.utf8.count + 1
        for argument in arguments { total += argument.bytes.count }
        var joined = [UInt8]()
        joined.reserveCapacity(total)
        var offsets = [Int]()
        offsets.reserveCapacity(arguments.count + 1)
        var lengths = [Int]()
        lengths.reserveCapacity(arguments.count + 1)
        offsets.append(0)
        lengths.append(name.utf8.count)
        joined.append(contentsOf: name.utf8)
        for argument in arguments {
            offsets.append(joined.count)
            lengths.append(argument.bytes.count)
            joined.append(contentsOf: argument.bytes)
        }
        joined.append(0)  // never empty, so the base address exists
        joined.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            var target: UnsafeMutablePointer<CChar>?
            let length = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisFormatCommandArgv(&target, Int32(argv.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
            guard length > 0, let target else {
                preconditionFailure("redisFormatCommandArgv failed (out of memory)")
            }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
            redisFreeCommand(target)
        }
    }
}

/// One argument of a ``RedisCommand``.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public var bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }
    public init<Value: BinaryInteger>(_ value: Value) { bytes = Array(String(value).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }

    /// Raw bytes, sent as they are.
    public static func bytes(_ bytes: [UInt8]) -> RedisArgument {
        var argument = RedisArgument("")
        argument.bytes = bytes
        return argument
    }
}
