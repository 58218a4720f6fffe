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
        let count = arguments.count + 1
        // The argument vectors live on the stack, and the arguments are passed where they are
        // stored (no joined copy): each argument's storage is pinned by a nested closure.
        withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { pointers in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                var name = self.name
                name.withUTF8 { nameBytes in
                    pointers[0] = nameBytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } ?? Self.empty
                    lengths[0] = nameBytes.count
                    pin(from: 0, pointers, lengths) {
                        var target: UnsafeMutablePointer<CChar>?
                        let length = redisFormatCommandArgv(&target, Int32(count), pointers.baseAddress, lengths.baseAddress)
                        guard length > 0, let target else { preconditionFailure("redisFormatCommandArgv failed (out of memory)") }
                        buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
                        redisFreeCommand(target)
                    }
                }
            }
        }
    }

    /// A valid pointer for empty arguments (hiredis reads zero bytes from it).
    private static var empty: UnsafePointer<CChar> {
        UnsafeRawPointer(("" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// Fills `pointers` and `lengths` from argument `index` on, each inside its own storage access,
    /// then runs `body` with all of them valid.
    private func pin(
        from index: Int, _ pointers: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>, _ lengths: UnsafeMutableBufferPointer<Int>,
        _ body: () -> Void
    ) {
        guard index < arguments.count else { return body() }
        arguments[index].withUnsafeBytes { bytes in
            pointers[index + 1] = bytes.baseAddress.map { $0.assumingMemoryBound(to: CChar.self) } ?? Self.empty
            lengths[index + 1] = bytes.count
            pin(from: index + 1, pointers, lengths, body)
        }
    }
}

/// One argument of a ``RedisCommand``.
///
/// Text is kept as the `String` it came as and read in place when the command is encoded (a
/// string literal costs no copy at all); bytes are kept as given.
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
