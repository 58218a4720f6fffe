// SPDX-License-Identifier: Apache-2.0
import Engine
import HTTPTypes
import Hummingbird
import NIOCore

extension WebChatDoor {
    /// Registers `POST /api/v1/chat`, `GET /api/v1/chat/models`, and the plain-HTTP side of the chat
    /// WebSocket paths (426, or the handshake's refusal).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/api/v1/chat") { request, context in
            try await self.chat(request, context: context)
        }
        router.get("/api/v1/chat/models") { request, context -> Response in
            if let refusal = self.handshake.checkToken(authorization: request.headers[.authorization], query: request.uri.query) {
                return Self.reject(refusal.status, refusal.message, context: context)
            }
            let models = self.engine.models
            let body: JSONValue = .object([
                "object": "list",
                "data": .array(models.available.map { .object(["id": .string($0), "object": "model", "owned_by": "hub"]) }),
                "default": models.defaultModel.map(JSONValue.string) ?? .null,
            ])
            return Response.json(.ok, body)
        }
        for path in ["/ws/chat/:client_id", "/ws/:client_id"] {
            router.get(RouterPath(path)) { request, context -> Response in
                let verdict = self.webSocketHandshake(path: request.uri.description, host: request.head.authority, headers: request.headers)
                switch verdict {
                case .failure(let refusal)?:
                    return Self.reject(refusal.status, refusal.message, context: context)
                case .success?:
                    var response = Response.jsonError(.upgradeRequired, "this endpoint takes WebSocket connections")
                    response.headers[.upgrade] = "websocket"
                    return response
                case nil:
                    return Response.jsonError(.notFound, "no chat endpoint here")
                }
            }
        }
    }

    /// `POST /api/v1/chat` with `{"client_id", "message", "stream"?, "id"?}`: the answer as JSON, or
    /// with `stream: true` as server-sent events carrying the WebSocket's frames. A failed answer is
    /// 502 (every provider failed) or 503 (no provider configured).
    func chat<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
        let limit = maxFrameBytes
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            return Self.reject(.contentTooLarge, "body larger than \(limit) bytes", context: context)
        }
        if let refusal = handshake.checkToken(authorization: request.headers[.authorization], query: request.uri.query) {
            return Self.reject(refusal.status, refusal.message, context: context)
        }
        guard let value = try? JSONValue(parsing: body.readableBytesView), value.objectValue != nil else {
            return Self.reject(.badRequest, "the body must be a JSON object: {\"client_id\", \"message\", \"stream\"}", context: context)
        }
        guard let clientID = value["client_id"]?.stringValue, Self.isValidClientID(clientID) else {
            return Self.reject(.badRequest, "\"client_id\" must be 1 to 64 letters, digits, '-' or '_'", context: context)
        }
        var stream = false
        switch value["stream"] {
        case nil, .null?: break
        case .bool(let flag)?: stream = flag
        default: return Self.reject(.badRequest, "\"stream\" must be true or false", context: context)
        }
        // The same checks as a WebSocket message frame.
        let message: WebChatInbound
        do {
            message = try WebChatInbound(
                value: value, textKey: "message", requiringType: false, maxBytes: settings.maxMessageBytes, makeID: makeMessageID)
        } catch {
            return Self.reject(error.message.hasPrefix("message too long") ? .contentTooLarge : .badRequest, error.message, context: context)
        }

        let queue = BoundedQueue<WebChatOutbound>(capacity: settings.outboundQueue)
        let sink = WebChatReplySink(queue: queue)
        let admission = await submit(message, clientID: clientID, sink: sink)
        if let refusal = Self.refusal(admission) {
            var response: Response
            switch admission {
            case .limited(let retryAfter):
                response = Response.jsonError(.tooManyRequests, refusal)
                response.headers[.retryAfter] = String(retryAfter.retryAfterSeconds)
            case .busy:
                response = Response.jsonError(.serviceUnavailable, refusal)
                response.headers[.retryAfter] = "1"
            case .duplicate:
                response = Response.jsonError(.conflict, refusal)
            default:
                response = Response.jsonError(.unprocessableContent, refusal)
            }
            return response
        }
        if stream {
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    defer { queue.close() }
                    while let item = await queue.next() {
                        guard case .frame(let frame) = item else { break }
                        try await writer.write(ByteBuffer(string: "data: \(frame.json)\n\n"))
                        if case .done = frame { break }
                        if case .error = frame { break }
                    }
                    try await writer.finish(nil)
                })
        }
        var text = ""
        defer { queue.close() }
        while let item = await queue.next() {
            guard case .frame(let frame) = item else { break }
            switch frame {
            case .delta(_, let piece):
                text += piece
            case .done(let id, let usage, let model):
                return Response.json(
                    .ok,
                    .object([
                        "id": .string(id), "client_id": .string(clientID), "reply": .string(text),
                        "model": model.map(JSONValue.string) ?? .null, "usage": usage.map(\.json) ?? .null,
                    ]))
            case .error(_, let reason):
                // No provider at all is the hub's state, not an upstream's failure.
                return Response.jsonError(engine.models.isEmpty ? .serviceUnavailable : .badGateway, reason)
            case .history:
                continue
            }
        }
        return Response.jsonError(.internalServerError, "the answer was lost")
    }

    private static func reject<Context: RequestContext>(_ status: HTTPResponse.Status, _ message: String, context: Context) -> Response {
        context.logger.notice("web chat request refused", metadata: ["hub.status": "\(status.code)", "hub.reason": "\(message)"])
        return Response.jsonError(status, message)
    }
}
