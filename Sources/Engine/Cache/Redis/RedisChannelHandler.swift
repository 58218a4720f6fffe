// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// Commands written into a Redis channel, with the promise of their replies.
struct RedisRequest: Sendable {
    var commands: [RedisCommand]
    var promise: EventLoopPromise<[RESPValue]>
    var timeout: TimeAmount
}

/// Encodes requests, decodes replies with hiredis and matches them to requests in order (Redis
/// answers a connection's commands in the order they were sent, so any number may be in flight).
///
/// A request that outlives its timeout fails with ``RedisError/timeout(command:)`` and closes the
/// connection: the replies still owed on it can no longer be trusted to line up, and a fresh
/// connection is cheaper than guessing.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let id: UInt64
        /// The first command (named in a timeout error).
        let first: RedisCommand
        let count: Int
        let promise: EventLoopPromise<[RESPValue]>
        let timeout: Scheduled<Void>?
    }

    private let reader = RESPReplyReader()
    private var pending = CircularBuffer<Pending>()
    /// Replies collected so far for the oldest pending request (kept out of `pending`, so that
    /// appending never copies).
    private var collected: [RESPValue] = []
    private var nextID: UInt64 = 0
    private var failure: RedisError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 32 * request.commands.count)
        for command in request.commands { command.encode(into: &buffer) }
        nextID &+= 1
        let id = nextID
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) { [self] in
            self.timedOut(id, context: context)
        }
        pending.append(Pending(id: id, first: request.commands[0], count: request.commands.count, promise: request.promise, timeout: timeout))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try reader.feed(unwrapInboundIn(data))
            while let reply = try reader.next() {
                guard let head = pending.first else { throw RedisError.protocolError("a reply arrived with no command waiting for it") }
                if collected.isEmpty { collected.reserveCapacity(head.count) }
                collected.append(reply)
                if collected.count == head.count {
                    pending.removeFirst()
                    head.timeout?.cancel()
                    let replies = collected
                    collected = []
                    head.promise.succeed(replies)
                }
            }
        } catch {
            fail(with: error as? RedisError ?? .protocolError("\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(with: error as? RedisError ?? .connectFailed("\(error)"), context: context)
    }

    private func timedOut(_ id: UInt64, context: ChannelHandlerContext) {
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        let late = pending[index]
        late.promise.fail(RedisError.timeout(command: late.count == 1 ? late.first.description : "pipeline of \(late.count)"))
        fail(with: .connectionClosed, context: context)
    }

    private func fail(with error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if failure == nil { failure = error }
        collected = []
        while let next = pending.popFirst() {
            next.timeout?.cancel()
            next.promise.fail(error)
        }
    }
}
