// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// HTTP/1.1 with WebSocket upgrades, where every upgrade is decided per request by `decide` and a
/// refused upgrade gets a real answer (400, 401, 403, 404 or 426 with a JSON body).
///
/// hummingbird-websocket answers any refused upgrade with a bare 400, which hides the difference
/// between a missing and a wrong token that OneBot implementations log; this channel keeps it.
/// Requests without an upgrade go to the normal Hummingbird router.
///
/// Below the router the channel answers what never reaches it, with the same JSON error and a
/// closed connection: a request NIO cannot parse (``ParserErrorResponder``), one that does not
/// arrive in time (``RequestReadTimeout``), a WebSocket handshake with a wrong version or key
/// (``CheckedWebSocketUpgrader``). A request offering an upgrade to anything but WebSocket is
/// served as a plain one (``ForeignUpgradeFilter``).
struct HubHTTPChannel: HTTPChannelHandler {
    /// Limits of the connections.
    struct Settings: Sendable {
        var maxFrameSize: Int
        /// How often a WebSocket peer is pinged (a missing pong by the next ping closes it).
        var pingPeriod: Duration
        var closeTimeout: Duration
        /// Idle timeout of plain HTTP connections between requests.
        var idleTimeout: Duration?
        /// How long a request may take to arrive: its head, and each read of its body.
        var requestTimeout: Duration
    }

    enum Negotiated: Sendable {
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, WebSocketDataHandler<HubWebSocketContext>, HTTPRequest)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, refusal: ClosingErrorResponse?)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: Responder
    /// The verdict for an upgrade request; nil when no WebSocket lives at its path.
    let decide: @Sendable (HTTPRequest) -> WebSocketUpgradeDecision?
    let settings: Settings

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let decide = self.decide
        let settings = self.settings
        return channel.eventLoop.makeCompletedFuture {
            // Everything below runs on the channel's event loop, one request at a time.
            let refusal = NIOLoopBoundBox<ClosingErrorResponse?>(nil, eventLoop: channel.eventLoop)
            let accepted = NIOLoopBoundBox<(WebSocketDataHandler<HubWebSocketContext>, HTTPRequest)?>(nil, eventLoop: channel.eventLoop)
            let webSocket = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: settings.maxFrameSize,
                shouldUpgrade: { channel, head in
                    guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
                        refusal.value = ClosingErrorResponse(.badRequest, "malformed upgrade request")
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    switch decide(request) {
                    case .accept(let handler):
                        accepted.value = (handler, request)
                        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                    case .refuse(let status, let message):
                        refusal.value = ClosingErrorResponse(status, message)
                    case nil:
                        refusal.value = ClosingErrorResponse(.notFound, "no WebSocket endpoint at \(request.path ?? "/")")
                    }
                    return channel.eventLoop.makeSucceededFuture(nil)
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let (handler, request) = accepted.value else { throw ChannelError.inappropriateOperationForState }
                        try Self.removeGuards(from: channel.pipeline.syncOperations)
                        try channel.pipeline.syncOperations.addHandler(WebSocketKeepalive(period: .init(settings.pingPeriod)))
                        let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return .webSocket(asyncChannel, handler, request)
                    }
                }
            )
            let upgrader = CheckedWebSocketUpgrader(base: webSocket) { refusal.value = $0 }
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: settings.idleTimeout, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return .http(asyncChannel, refusal: refusal.value)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
            configuration.enablePipelining = false
            // ParserErrorResponder answers what NIO cannot parse, with the hub's JSON error instead of
            // NIO's bare 400.
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            try Self.addGuards(
                to: channel.pipeline.syncOperations, headerLimit: configuration.decoderConfiguration.maxHeaderListSize, settings: settings,
                logger: logger)
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let channel, nil):
                await handleHTTP(asyncChannel: channel, logger: logger)
            case .http(let channel, let refusal?):
                logger.notice(
                    "WebSocket upgrade refused", metadata: ["hub.status": "\(refusal.status.code)", "hub.reason": "\(refusal.message)"])
                await Self.write(refusal, on: channel)
            case .webSocket(let channel, let handler, let request):
                _ = try await WebSocketHandler.handle(
                    type: .server,
                    configuration: .init(
                        extensions: [], autoPing: .disabled, closeTimeout: settings.closeTimeout, validateUTF8: true,
                        maxFrameSize: settings.maxFrameSize),
                    asyncChannel: channel,
                    context: HubWebSocketContext(logger: logger, request: request, abort: { channel.channel.close(promise: nil) }),
                    handler: handler)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed during the upgrade")
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private static func write(_ refusal: ClosingErrorResponse, on channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>) async {
        let body = refusal.body
        try? await channel.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [.head(refusal.head(bodyLength: body.readableBytes)), .body(body), .end(nil)])
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 whose WebSocket upgrades `decide` settles request by request.
    static func hub(
        settings: HubHTTPChannel.Settings, decide: @escaping @Sendable (HTTPRequest) -> WebSocketUpgradeDecision?
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HubHTTPChannel(responder: responder, decide: decide, settings: settings)
        }
    }
}
