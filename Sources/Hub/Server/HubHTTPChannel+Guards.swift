// SPDX-License-Identifier: Apache-2.0
import Logging
import NIOCore
import NIOHTTP1

extension HubHTTPChannel {
    /// Adds the handlers that answer what never reaches the router, where HTTP/1 parts travel:
    /// ``ForeignUpgradeFilter`` before NIO's upgrade handler, ``ParserErrorResponder`` and
    /// ``RequestReadTimeout`` after it, ahead of the handlers the first request adds.
    static func addGuards(
        to pipeline: ChannelPipeline.SynchronousOperations, headerLimit: Int, settings: Settings, logger: Logger
    ) throws {
        let upgradeHandler = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self)
        try pipeline.addHandler(ForeignUpgradeFilter(spoken: ["websocket"]), position: .before(upgradeHandler))
        try pipeline.addHandlers(
            ParserErrorResponder(headerLimit: headerLimit, logger: logger),
            RequestReadTimeout(timeout: TimeAmount(settings.requestTimeout), idleTimeout: settings.idleTimeout.map(TimeAmount.init), logger: logger)
        )
    }

    /// Takes the guards out when the connection becomes a WebSocket: what follows is frames.
    static func removeGuards(from pipeline: ChannelPipeline.SynchronousOperations) throws {
        pipeline.removeHandler(context: try pipeline.context(handlerType: ForeignUpgradeFilter.self), promise: nil)
        pipeline.removeHandler(context: try pipeline.context(handlerType: ParserErrorResponder.self), promise: nil)
        pipeline.removeHandler(context: try pipeline.context(handlerType: RequestReadTimeout.self), promise: nil)
    }
}
