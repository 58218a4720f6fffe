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
        /// The first command (named in a timeout error).
        let first: RedisCommand
        let count: Int
        let promise: EventLoopPromise<[RESPValue]>
        let deadline: NIODeadline
    }

    private let reader = RESPReplyReader()
    private var pending = CircularBuffer<Pending>()
    /// One timer for all requests (not one per request): it fires at the earliest deadline
    /// pending, and re-arms itself for the next one.
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline = .distantFuture
    /// Replies collected so far for the oldest pending request (kept out of `pending`, so that
    /// appending never copies).
    private var collected: [RESPValue] = []
    private var failure: RedisError?
    /// A flush is scheduled for the end of this event-loop turn.
    private var flushScheduled = false
    /// Commands encoded since the last flush, written as one buffer (one allocation and one iovec
    /// for a whole turn's worth of requests), and the promise of that write.
    private var unflushed: ByteBuffer?
    private var unflushedPromise: EventLoopPromise<Void>?

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
        var buffer = unflushed ?? context.channel.allocator.buffer(capacity: max(4096, 32 * request.commands.count))
        unflushed = nil  // no second reference while appending: the buffer grows in place
        for command in request.commands { command.encode(into: &buffer) }
        unflushed = buffer
        if let promise {
            if let unflushedPromise {
                unflushedPromise.futureResult.cascade(to: promise)
            } else {
                unflushedPromise = promise
            }
        }
        let deadline = NIODeadline.now() + request.timeout
        pending.append(Pending(first: request.commands[0], count: request.commands.count, promise: request.promise, deadline: deadline))
        if deadline < timerDeadline { arm(at: deadline, context: context) }
    }

    /// Coalesces flushes: requests from many callers that reach the event loop in one turn leave
    /// in one write system call (automatic pipelining) instead of one each.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            if let buffer = self.unflushed {
                context.write(self.wrapOutboundOut(buffer), promise: self.unflushedPromise)
                self.unflushed = nil
                self.unflushedPromise = nil
            }
            context.flush()
        }
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

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = .distantFuture
        let now = NIODeadline.now()
        var earliest = NIODeadline.distantFuture
        for request in pending {
            if request.deadline <= now {
                request.promise.fail(RedisError.timeout(command: request.count == 1 ? request.first.description : "pipeline of \(request.count)"))
                fail(with: .connectionClosed, context: context)
                return
            }
            earliest = min(earliest, request.deadline)
        }
        if earliest != .distantFuture { arm(at: earliest, context: context) }
    }

    private func fail(with error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if failure == nil { failure = error }
        collected = []
        unflushed = nil
        unflushedPromise?.fail(error)
        unflushedPromise = nil
        timer?.cancel()
        timer = nil
        timerDeadline = .distantFuture
        while let next = pending.popFirst() {
            next.promise.fail(error)
        }
    }
}
