// SPDX-License-Identifier: Apache-2.0
import Engine
import Hummingbird
import HTTPTypes
import NIOCore
import Logging

extension OneBotDoor {
    /// The HTTP POST callback paths.
    public static let callbackPaths = ["/onebot/v11/http", "/api/v1/qq/callback"]

    /// Registers the HTTP POST callback and the plain-HTTP side of the WebSocket paths (which
    /// answers refused handshakes with 400/401/403 and anything else with 426).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for path in Self.callbackPaths {
            router.post(RouterPath(path)) { request, context in
                try await self.receiveCallback(request, context: context)
            }
            for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    _ = try? await request.body.collect(upTo: self.settings.maxBodyBytes)
                    throw HubError(.methodNotAllowed, "use POST", headers: [.allow: "POST"])
                }
            }
        }
        for (path, role) in Self.webSocketPaths {
            router.get(RouterPath(path)) { request, context -> Response in
                switch self.handshake.evaluate(headers: request.headers, query: request.uri.query, pathRole: role) {
                case .failure(let rejection):
                    context.logger.notice(
                        "OneBot WebSocket handshake refused", metadata: ["hub.status": "\(rejection.status.code)", "hub.reason": "\(rejection.message)"])
                    throw HubError(rejection.status, rejection.message)
                case .success:
                    throw HubError(.upgradeRequired, "this endpoint takes WebSocket connections", headers: [.upgrade: "websocket"])
                }
            }
        }
    }

    /// The HTTP POST callback (ONEBOT11.md §1.2, checked in the [HUB] order).
    func receiveCallback<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
        // The body is read (bounded) before any answer, so that an early refusal never leaves unread
        // bytes on a keep-alive connection. The verdicts still follow the [HUB] order.
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxBodyBytes)
        } catch {
            throw refusal(.contentTooLarge, "body larger than \(settings.maxBodyBytes) bytes", context: context)
        }
        guard let selfText = request.headers[OneBotHandshake.selfIDField], let selfID = Int64(selfText.trimmingCharacters(in: " \t")) else {
            throw refusal(.badRequest, "X-Self-ID header missing or not a number", context: context)
        }
        if let secret = settings.secret, !secret.isEmpty {
            switch AccessCredentials.checkSignature(request.headers[Self.signatureField], body: body.readableBytesView, secret: secret) {
            case .missing: throw refusal(.unauthorized, "X-Signature required", context: context)
            case .wrong: throw refusal(.forbidden, "X-Signature does not match the body", context: context)
            case .ok: break
            }
        }
        guard body.readableBytes > 0 else { throw refusal(.badRequest, "empty body", context: context) }
        let event: OneBotEvent
        do {
            event = try OneBotEvent(json: try JSONValue(parsing: body.readableBytesView))
        } catch {
            metrics.malformedInput(door: "onebot", reason: "invalid_callback")
            throw refusal(.badRequest, "\(error)", context: context)
        }
        guard await handleDurably(event, selfID: selfID) else {
            // Answered all the same, but not kept: a crash before the answer would lose it.
            throw HubError(.serviceUnavailable, "the event could not be stored; it is being answered, but is not durable")
        }
        return Response(status: .noContent)
    }

    private func refusal<Context: RequestContext>(_ status: HTTPResponse.Status, _ message: String, context: Context) -> HubError {
        context.logger.notice("OneBot callback refused", metadata: ["hub.status": "\(status.code)", "hub.reason": "\(message)"])
        return HubError(status, message)
    }

    /// The header carrying the HMAC-SHA1 signature of an HTTP POST body.
    static let signatureField = HTTPField.Name("X-Signature")!
}
