// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// Answers a request NIO's parser rejects and closes its connection: nothing after a parse error
/// can be trusted, and left open such a connection held a file descriptor until the client gave up.
///
/// The answer is the hub's JSON error with the status the parser's error names: 431 for a request
/// line or header block over the decoder's limit (the parser does not tell a long URL from long
/// headers), 501 for a method it does not know (a garbage request line reads as one), 400 for
/// anything else (a bad or conflicting `Content-Length`, NUL or a bare CR in a header, bad chunked
/// framing, a version other than HTTP/1.x or a line not ended by CRLF, which the parser does not
/// tell apart either). It replaces NIO's
/// `HTTPServerProtocolErrorHandler`, whose 400 had no body; it stays silent when its answer could
/// not be told from another response (one has begun, or one is owed to an earlier request).
final class ParserErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The decoder's limit on a request line plus header block, in bytes, for the 431's message.
    private let headerLimit: Int
    private let logger: Logger
    private var progress = ExchangeProgress()
    private var answered = false

    init(headerLimit: Int, logger: Logger) {
        self.headerLimit = headerLimit
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError, !answered {
            answered = true
            let answer = Self.answer(to: error, headerLimit: headerLimit)
            logger.debug("request cannot be parsed", metadata: ["hub.status": "\(answer.status.code)", "error": "\(error)"])
            if progress.mayAnswer {
                answer.writeAndClose(context)
            } else {
                context.close(promise: nil)
            }
        }
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        progress.read(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        progress.wrote(unwrapOutboundIn(data))
        context.write(data, promise: promise)
    }

    /// The answer to a request the parser rejected with `error`.
    static func answer(to error: HTTPParserError, headerLimit: Int) -> ClosingErrorResponse {
        switch error {
        case .headerOverflow:
            ClosingErrorResponse(
                .requestHeaderFieldsTooLarge, "the request line and header fields must fit in \(headerLimit / 1024) KiB")
        case .invalidMethod:
            ClosingErrorResponse(.notImplemented, "unknown request method")
        case .invalidVersion:
            ClosingErrorResponse(.badRequest, "malformed request line: HTTP/1.1 or HTTP/1.0 and CRLF expected")
        case .invalidContentLength, .unexpectedContentLength:
            ClosingErrorResponse(.badRequest, "malformed request: invalid Content-Length")
        case .invalidChunkSize:
            ClosingErrorResponse(.badRequest, "malformed request: invalid chunked encoding")
        case .invalidURL:
            ClosingErrorResponse(.badRequest, "malformed request: invalid request target")
        default:
            ClosingErrorResponse(.badRequest, "malformed request")
        }
    }
}

@available(*, unavailable)
extension ParserErrorResponder: Sendable {}
