// SPDX-License-Identifier: Apache-2.0
import CHiredis
import NIOCore

/// Decodes a byte stream of replies with hiredis' `redisReader`.
///
/// hiredis parses; the values are built straight into ``RESPValue``s by the reader's object
/// callbacks (`redisReaderCreateWithFunctions`), so a reply costs no `redisReply` tree to allocate,
/// walk and free. hiredis hands each callback the element's position (its parent task), and the
/// elements of an array arrive in order, depth first: a stack of open arrays is all the state.
///
/// Not thread-safe: one reader belongs to one connection and is used on its event loop only.
/// Package-visible for the fuzz target.
package final class RESPReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let builder = ReplyBuilder()

    package init() {
        guard let reader = redisReaderCreateWithFunctions(Self.functions) else {
            preconditionFailure("redisReaderCreateWithFunctions failed (out of memory)")
        }
        self.reader = reader
        // The reader copies its privdata into every task it hands to the callbacks.
        reader.pointee.privdata = Unmanaged.passUnretained(builder).toOpaque()
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands received bytes to the reader.
    package func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard status == REDIS_OK else { throw .protocolError(readerError) }
    }

    /// The next complete reply, or nil when more bytes are needed.
    package func next() throws(RedisError) -> RESPValue? {
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK else {
            builder.reset()
            throw .protocolError(readerError)
        }
        guard reply != nil else { return nil }
        return builder.takeComplete()
    }

    private var readerError: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "malformed reply" : String(decoding: bytes, as: UTF8.self)
        }
    }

    // MARK: hiredis callbacks

    /// What the callbacks return to hiredis: any non-NULL pointer (NULL would mean out of memory).
    /// The values live in the builder, so there is nothing for hiredis to hold or free.
    private static var placeholder: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 1) }

    /// Hands a callback's value to the builder behind `task`; NULL (hiredis: out of memory) when
    /// the task carries no builder, which a reader made by `init` never does.
    private static func report(_ task: UnsafePointer<redisReadTask>?, _ build: (ReplyBuilder) -> Void) -> UnsafeMutableRawPointer? {
        guard let privdata = task?.pointee.privdata else { return nil }
        build(Unmanaged<ReplyBuilder>.fromOpaque(privdata).takeUnretainedValue())
        return placeholder
    }

    /// The callback table, allocated once for the process (hiredis keeps a pointer to it; nothing
    /// writes to it after initialisation).
    nonisolated(unsafe) private static let functions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
        let table = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        table.initialize(
            to: redisReplyObjectFunctions(
                createString: { task, string, length in
                    RESPReplyReader.report(task) { builder in
                        let bytes = UnsafeRawBufferPointer(start: string.map(UnsafeRawPointer.init), count: string == nil ? 0 : length)
                        switch task?.pointee.type {
                        case REDIS_REPLY_STATUS: builder.add(.simpleString(String(decoding: bytes, as: UTF8.self)))
                        case REDIS_REPLY_ERROR: builder.add(.error(String(decoding: bytes, as: UTF8.self)))
                        default: builder.add(.bulkString(Array(bytes)))
                        }
                    }
                },
                createArray: { task, count in RESPReplyReader.report(task) { $0.openArray(count: Int(count)) } },
                createInteger: { task, value in RESPReplyReader.report(task) { $0.add(.integer(Int64(value))) } },
                createNil: { task in RESPReplyReader.report(task) { $0.add(.null) } },
                freeObject: { _ in }
            ))
        return table
    }()
}

/// Assembles the values hiredis reports into one reply: scalars go into the innermost open
/// array, an array closes when it has all its elements, and the outermost value is the reply.
private final class ReplyBuilder {
    private var open: [(elements: [RESPValue], count: Int)] = []
    private var complete: RESPValue?

    func add(_ value: RESPValue) {
        var value = value
        while !open.isEmpty {
            let last = open.count - 1
            open[last].elements.append(value)
            guard open[last].elements.count == open[last].count else { return }
            value = .array(open.removeLast().elements)
        }
        complete = value
    }

    func openArray(count: Int) {
        guard count > 0 else { return add(.array([])) }
        var elements = [RESPValue]()
        elements.reserveCapacity(min(count, 1024))  // the count is the server's word; grow past it as elements come
        open.append((elements, count))
    }

    func takeComplete() -> RESPValue? {
        defer { complete = nil }
        return complete
    }

    func reset() {
        open = []
        complete = nil
    }
}
