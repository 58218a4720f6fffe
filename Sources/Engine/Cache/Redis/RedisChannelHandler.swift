// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// Commands for a Redis channel, already encoded, with the continuation waiting for their replies.
struct RedisRequest: Sendable {
    /// The commands in RESP, one after the other.
    var encoded: ByteBuffer
    /// How many commands `encoded` holds (as many replies are owed); at least one
    /// (``RedisConnection/send(_:timeout:)`` answers an empty list itself).
    var count: Int
    /// The first command's name, for a timeout error (arguments may be secrets).
    var name: String
    var continuation: UnsafeContinuation<[RESPValue], any Error>
    var timeout: TimeAmount
}

/// Writes encoded requests, decodes replies with hiredis and matches them to requests in order
/// (Redis answers a connection's commands in the order they were sent, so any number may be in
/// flight).
///
/// Requests come in through ``submit(_:)`` on the channel's event loop rather than through the
/// pipeline's `write`: a caller's round trip then costs one hop onto the loop and one resumed
/// continuation, with no future, no write promise and no boxing on the way. Callers encode their
/// commands before the hop (``RedisConnection/send(_:timeout:)``), so the loop, which every
/// command of the connection goes through, only copies bytes out and decodes replies.
///
/// A request that outlives its timeout fails with ``RedisError/timeout(command:)`` and closes the
/// connection: the replies still owed on it can no longer be trusted to line up, and a fresh
/// connection is cheaper than guessing.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        /// The first command's name (named in a timeout error).
        let name: String
        let count: Int
        let continuation: UnsafeContinuation<[RESPValue], any Error>
        let queued: NIODeadline
        let deadline: NIODeadline
    }

    private let load: RedisConnectionLoad

    init(load: RedisConnectionLoad) {
        self.load = load
    }

    private let reader = RESPReplyReader()
    private var context: ChannelHandlerContext?
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
    /// Requests' bytes since the last flush, written as one buffer (one iovec for a whole turn's
    /// worth of requests). The buffer is kept and cleared after each flush (NIO has normally
    /// written it and let go by then), so a busy connection does not allocate one per turn.
    private var outbound = ByteBuffer()
    /// Beyond this capacity the outbound buffer is not kept after a flush (one large value must
    /// not pin its size for the connection's life).
    private static let outboundKeep = 64 * 1024

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        self.context = nil
    }

    /// Queues a request's bytes for the next flush. Call on the channel's event loop.
    func submit(_ request: RedisRequest) {
        guard let context, failure == nil else {
            request.continuation.resume(throwing: failure ?? .connectionClosed)
            return
        }
        outbound.writeImmutableBuffer(request.encoded)
        let now = NIODeadline.now()
        let deadline = now + request.timeout
        pending.append(Pending(name: request.name, count: request.count, continuation: request.continuation, queued: now, deadline: deadline))
        if pending.count == 1 { load.oldestQueued(at: now) }
        if deadline < timerDeadline { arm(at: deadline, context: context) }
        scheduleFlush(context: context)
    }

    /// Coalesces writes: requests from many callers that reach the event loop in one turn leave
    /// in one write system call (automatic pipelining) instead of one each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            guard self.outbound.readableBytes > 0, self.failure == nil else { return }
            context.writeAndFlush(self.wrapOutboundOut(self.outbound), promise: nil)
            if self.outbound.capacity > Self.outboundKeep {
                self.outbound = ByteBuffer()
            } else {
                self.outbound.clear()
            }
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
                    load.oldestQueued(at: pending.first?.queued)
                    let replies = collected
                    collected = []
                    head.continuation.resume(returning: replies)
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
        for (index, request) in zip(pending.indices, pending) {
            if request.deadline <= now {
                // The late request gets the timeout, the others the closed connection.
                pending.remove(at: index).continuation.resume(
                    throwing: RedisError.timeout(command: request.count == 1 ? request.name : "pipeline of \(request.count)"))
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
        outbound = ByteBuffer()
        timer?.cancel()
        timer = nil
        timerDeadline = .distantFuture
        while let next = pending.popFirst() {
            next.continuation.resume(throwing: error)
        }
        load.oldestQueued(at: nil)
    }
}
