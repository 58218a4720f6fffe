// SPDX-License-Identifier: Apache-2.0
import Adapters
import AsyncHTTPClient
import Engine
import Hummingbird
import Logging
import NIOCore
import Prometheus
import WSCore

/// Builds the hub: storage, engine, doors and routes, ready to run.
///
/// - Parameters:
///   - configuration: the effective configuration.
///   - logger: the root logger.
///   - onServerRunning: called with the bound port once the server listens (port 0 picks a free one).
func buildApplication(
    _ configuration: HubConfiguration, logger rootLogger: Logger, onServerRunning: (@Sendable (Int) async -> Void)? = nil
) async throws -> some ApplicationProtocol {
    let components = try HubComponents(configuration, logger: rootLogger)
    // From here on, the logger that also keeps warnings and errors for `/admin/errors`.
    let logger = components.logger

    let router = buildRouter(components, logger: logger)

    let oneBot = components.oneBot
    let web = components.web
    let voice = components.voice
    let streamingASR = components.streamingASR
    var app = Application(
        router: router,
        server: .hub(
            settings: .init(
                maxFrameSize: configuration.onebot.maxFrameBytes, pingPeriod: .seconds(30),
                closeTimeout: .seconds(10), idleTimeout: .seconds(75), requestTimeout: .seconds(configuration.server.requestTimeout))
        ) { request in
            let path = request.path ?? "/"
            switch oneBot.webSocketHandshake(path: path, headers: request.headerFields) {
            case .success(let accepted):
                return .accept { inbound, outbound, context in
                    try await oneBot.serve(accepted, inbound: inbound, outbound: outbound, abort: context.abort)
                }
            case .failure(let rejection):
                return .refuse(status: rejection.status, message: rejection.message)
            case nil:
                break
            }
            switch voice.webSocketHandshake(path: path, host: request.authority, headers: request.headerFields) {
            case .success(let accepted):
                return .accept { inbound, outbound, _ in try await voice.serve(accepted, inbound: inbound, outbound: outbound) }
            case .failure(let rejection):
                return .refuse(status: rejection.status, message: rejection.message)
            case nil:
                break
            }
            switch streamingASR.webSocketHandshake(path: path, headers: request.headerFields) {
            case .success(let accepted):
                return .accept { inbound, outbound, _ in try await streamingASR.serve(accepted, inbound: inbound, outbound: outbound) }
            case .failure(let rejection):
                return .refuse(status: rejection.status, message: rejection.message)
            case nil:
                break
            }
            switch web?.webSocketHandshake(path: path, host: request.authority, headers: request.headerFields) {
            case .success(let clientID)?:
                return .accept { inbound, outbound, _ in try await web?.serve(clientID: clientID, inbound: inbound, outbound: outbound) }
            case .failure(let rejection)?:
                return .refuse(status: rejection.status, message: rejection.message)
            case nil:
                return nil
            }
        },
        configuration: .init(
            address: .hostname(configuration.server.host, port: configuration.server.port), serverName: "hub"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.server.port
            logger.info("hub listening", metadata: ["hub.address": "\(configuration.server.host):\(port)"])
            await onServerRunning?(port)
        },
        logger: logger
    )
    // Shut down in reverse order: the replay service last but the checkpointer, so the records of
    // the answers the lanes finish while they drain are written before the end, and copied last.
    app.addServices(
        components.checkpointer, components.replay, components.httpClientService, components.realtimeLane, components.noticeLane, components.speech.lane,
        components.images.jobs, components.images.media, components.usage)
    if let redis = components.redis { app.addServices(redis) }
    app.beforeServerStarts {
        try components.database.migrate()
        try await components.engine.restoreRecentInbound()
        components.databaseReady.fire()
        if components.models.isEmpty {
            logger.warning("no LLM provider configured: chat doors will say so. Set OPENAI_BASE_URL / OPENAI_API_KEY or llm.providers.")
        }
    }
    return app
}

/// The hub's HTTP router: every controller's routes, in one place, so that `OpenAPICoverageTests`
/// can compare them with the OpenAPI document. (WebSocket upgrades are decided before routing, in
/// ``buildApplication(_:logger:onServerRunning:)``.)
///
/// - Parameters:
///   - components: what the routes serve.
///   - logger: the root logger.
func buildRouter(_ components: HubComponents, logger: Logger) -> Router<HubRequestContext> {
    let configuration = components.configuration
    let router = Router(context: HubRequestContext.self)
    router.addMiddleware {
        LogRequestsMiddleware(.debug)
    }
    OperationsController(components: components).addRoutes(to: router)
    StatsController(usage: components.usage, routes: { components.routeHealth }, adminKey: configuration.admin.apiKey?.value).addRoutes(to: router)
    let resources = ResourcesController(components: components, startedAt: .now)
    AdminController(components: components, resources: resources).addRoutes(to: router)
    AdminPageController().addRoutes(to: router)
    OpenAIDoor(
        engine: components.engine, apiKeys: configuration.gateway.apiKeys.map(\.value), maxBodyBytes: configuration.server.maxBodyBytes,
        logger: logger
    ).addRoutes(to: router)
    SpeechAPI(
        speech: components.speech.engine, apiKeys: configuration.gateway.apiKeys.map(\.value), maxUploadBytes: configuration.stt.maxUploadBytes,
        maxBodyBytes: configuration.server.maxBodyBytes, logger: logger
    ).addRoutes(to: router)
    ImageAPI(
        images: components.imageJobs, apiKeys: configuration.gateway.apiKeys.map(\.value), maxBodyBytes: configuration.server.maxBodyBytes,
        waitTimeout: components.images.waitTimeout, logger: logger
    ).addRoutes(to: router)
    resources.addRoutes(to: router)
    components.oneBot.addRoutes(to: router)
    VoiceOTAController(settings: configuration.voice.doorSettings(allowedOrigins: configuration.web.allowedOrigins)).addRoutes(to: router)
    components.streamingASR.addRoutes(to: router)
    if let web = components.web {
        web.addRoutes(to: router)
        WebPageController().addRoutes(to: router)
    }
    OpenAPIController().addRoutes(to: router, logger: logger)
    return router
}
