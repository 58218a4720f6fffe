// SPDX-License-Identifier: Apache-2.0
import Engine
import HTTPTypes
import Hummingbird
import NIOCore
import Logging

extension WebChatDoor {
    /// Registers `POST /api/v1/chat`, `GET /api/v1/chat/models`, and the plain-HTTP side of the chat
    /// WebSocket paths (426, or the handshake's refusal).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let rest = router.group("/api/v1/chat").add(
            middleware: AccessTokenMiddleware(token: settings.accessToken, name: "access token", acceptsQuery: true))
        rest.post { request, context in
            try await self.chat(request, context: context)
        }
        rest.get("models") { _, _ -> Response in
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
                    throw Self.refusal(refusal.status, refusal.message, context: context)
                case .success?:
                    throw HubError(.upgradeRequired, "this endpoint takes WebSocket connections", headers: [.upgrade: "websocket"])
                case nil:
                    throw HubError(.notFound, "no chat endpoint here")
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
            throw Self.refusal(.contentTooLarge, "body larger than \(limit) bytes", context: context)
        }
        let wire: WebChatInbound.Wire
        do {
            wire = try WebChatInbound.Wire.decode(body.readableBytesView)
        } catch {
            throw Self.refusal(.badRequest, "the body must be a JSON object: {\"client_id\", \"message\", \"stream\"}", context: context)
        }
        guard let clientID = wire.clientID?.string, Self.isValidClientID(clientID) else {
            throw Self.refusal(.badRequest, "\"client_id\" must be 1 to 64 letters, digits, '-' or '_'", context: context)
        }
        var stream = false
        switch wire.stream {
        case nil, .null?: break
        case .boolean(let flag)?: stream = flag
        default: throw Self.refusal(.badRequest, "\"stream\" must be true or false", context: context)
        }
        // The same checks as a WebSocket message frame.
        let message: WebChatInbound
        do {
            message = try WebChatInbound(wire: wire, textKey: .message, requiringType: false, maxBytes: settings.maxMessageBytes, makeID: makeMessageID)
        } catch {
            throw Self.refusal(error.message.hasPrefix("message too long") ? .contentTooLarge : .badRequest, error.message, context: context)
        }

        let (admission, answer) = engine.answer(event(for: message, clientID: clientID), showsProgress: stream)
        logRefusal(admission, clientID: clientID)
        switch admission {
        case .duplicate, .ignored:
            throw HubError(admission == .duplicate ? .conflict : .unprocessableContent, Self.refusal(admission) ?? "not taken")
        case .accepted, .busy, .limited:
            break
        }
        let id = message.id
        if stream {
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    do {
                        var streamed = false
                        for await part in answer {
                            if case .delta = part { streamed = true }
                            for frame in WebChatFrame.frames(for: part, id: id, streamed: streamed) {
                                try await writer.write(ByteBuffer(string: "data: \(frame.json)\n\n"))
                            }
                        }
                        // Nothing if the answer ended; if this task was cancelled, so is the turn.
                        await answer.cancel()
                        try await writer.finish(nil)
                    } catch {
                        // The client went away: its answer is not wanted any more.
                        await answer.cancel()
                        throw error
                    }
                })
        }
        var text = ""
        for await part in answer {
            switch part {
            case .delta(let piece):
                text += piece
            case .sentence:
                continue
            case .final(let reply):
                return Response.json(
                    .ok,
                    .object([
                        "id": .string(id), "client_id": .string(clientID), "reply": .string(reply.text),
                        "model": reply.model.map(JSONValue.string) ?? .null, "usage": reply.usage.map(\.json) ?? .null,
                    ]))
            case .notice(let reply, let reason):
                switch reason {
                case .limited(let retryAfter):
                    throw HubError(
                        .tooManyRequests, reply.text.isEmpty ? reason.notice ?? "" : reply.text,
                        headers: [.retryAfter: String(retryAfter.retryAfterSeconds)])
                case .duplicate:
                    throw HubError(.conflict, Self.refusal(reason) ?? "")
                default:
                    throw HubError(.serviceUnavailable, reply.text, headers: [.retryAfter: "1"])
                }
            case .failure(let reply, _):
                // No provider at all is the hub's state, not an upstream's failure.
                throw HubError(engine.models.isEmpty ? .serviceUnavailable : .badGateway, reply.text)
            case .cancelled:
                throw HubError(.conflict, "The answer was stopped before it was finished.")
            }
        }
        // The handler was cancelled (the client went away): so is its answer.
        await answer.cancel()
        throw HubError(.internalServerError, "the answer was lost")
    }

    private static func refusal<Context: RequestContext>(_ status: HTTPResponse.Status, _ message: String, context: Context) -> HubError {
        context.logger.notice("web chat request refused", metadata: ["hub.status": "\(status.code)", "hub.reason": "\(message)"])
        return HubError(status, message)
    }
}
