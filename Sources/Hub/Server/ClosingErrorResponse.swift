// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// An answer the server gives below the router, after which it closes the connection: a status,
/// the hub's JSON error body (``HubError/body(_:)``, the shape every route's error has) and
/// `Connection: close`.
///
/// ```swift
/// ClosingErrorResponse(.requestTimeout, "the request did not arrive within 5 s").writeAndClose(context)
/// ```
struct ClosingErrorResponse: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String
    /// Headers besides the body's and `Connection` (`Sec-WebSocket-Version` on a 426).
    var headerFields: HTTPFields

    init(_ status: HTTPResponse.Status, _ message: String, headerFields: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headerFields = headerFields
    }

    var description: String { "\(status.code) \(message)" }

    /// The JSON body.
    var body: ByteBuffer {
        var bytes = [UInt8]()
        HubError.body(message).write(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }

    /// The response head, announcing the close and the body's length.
    func head(bodyLength: Int) -> HTTPResponse {
        var fields = headerFields
        fields[.connection] = "close"
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(bodyLength)
        return HTTPResponse(status: status, headerFields: fields)
    }

    /// Writes the response from a handler that sits where HTTP/1 parts travel (between NIO's HTTP
    /// codec and the typed one), then closes the channel at once: the answer is small enough for
    /// the socket's buffer, and a peer that never reads must not keep the connection open.
    func writeAndClose(_ context: ChannelHandlerContext) {
        let body = self.body
        let head = HTTPResponseHead(head(bodyLength: body.readableBytes))
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
