// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// Closes a connection whose request could not be parsed, once NIO's error handler has answered it
/// with 400: nothing further on it can be trusted, and without this the connection stayed open
/// until the client gave up (a half-sent or garbled request held a file descriptor).
final class ParserErrorCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }
}
