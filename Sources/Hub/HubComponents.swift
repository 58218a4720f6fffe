// SPDX-License-Identifier: Apache-2.0
import Adapters
import AsyncHTTPClient
import Engine
import Logging
import Prometheus

/// Everything the hub is made of, assembled from the configuration. Routes and services use these.
struct HubComponents: Sendable {
    let configuration: HubConfiguration
    let database: HubDatabase
    let store: CachedConversationStore
    let outbox: Outbox
    let models: ChatModels
    let realtimeLane: Lane
    let engine: ConversationEngine
    let oneBot: OneBotDoor
    let httpClientService: HTTPClientService
    let metricsRegistry: PrometheusCollectorRegistry

    init(_ configuration: HubConfiguration, logger: Logger) throws {
        self.configuration = configuration
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        let metrics = HubMetrics(factory: factory)
        metricsRegistry = registry

        database = try HubDatabase(path: configuration.storage.sqlitePath)
        store = CachedConversationStore(base: SQLiteConversationStore(database: database))
        outbox = Outbox(database: database)

        let llm = configuration.llm
        let longestTimeout = llm.providers.map(\.timeout).max() ?? 30
        httpClientService = HTTPClientService(
            connectTimeout: .seconds(llm.providers.map(\.connectTimeout).max() ?? 5), readTimeout: .seconds(max(60, longestTimeout)))
        let client = httpClientService.client
        models = ChatModels(
            providers: llm.providers.map { provider in
                OpenAICompatibleProvider(
                    configuration: .init(
                        name: provider.name, baseURL: provider.baseURL, apiKey: provider.apiKey?.value, models: provider.models.map(\.name),
                        timeout: .seconds(provider.timeout)),
                    client: client, logger: logger)
            },
            defaultModel: llm.defaultModel.map { model in
                // `provider/model` names a model of one provider; the engine routes by model name.
                llm.providers.contains { $0.models.contains { $0.name == model } } ? model : String(model.split(separator: "/", maxSplits: 1).last ?? "")
            })

        let lanes = configuration.lanes
        realtimeLane = Lane(name: "realtime", maxConcurrent: lanes.realtime.maxConcurrent, queueLimit: lanes.realtime.queue)

        let chat = configuration.chat
        let settings = EngineSettings(
            policy: ChatPolicy(
                groupTriggers: Set(chat.groupTrigger.compactMap { ChatPolicy.GroupTrigger(rawValue: $0.rawValue) }),
                prefixes: chat.prefixes, nicknames: chat.nicknames),
            sessionScope: SessionKey.SessionScope(rawValue: chat.sessionScope.rawValue) ?? .perUser,
            history: HistoryLimits(maxTurns: chat.history.maxTurns, maxTokens: chat.history.maxTokens, maxBytes: chat.history.maxBytes),
            persona: chat.persona, maxReplyLength: chat.maxReplyLength,
            dedupeWindow: configuration.onebot.dedupeWindow, dedupeCapacity: configuration.onebot.dedupeCapacity)
        engine = ConversationEngine(settings: settings, store: store, models: models, lane: realtimeLane, metrics: metrics, logger: logger)

        let onebot = configuration.onebot
        oneBot = OneBotDoor(
            settings: OneBotDoorSettings(
                accessToken: onebot.accessToken?.value, secret: onebot.secret?.value, httpAPI: onebot.httpAPIBySelfID,
                actionTimeout: .seconds(onebot.actionTimeout), mediaActionTimeout: .seconds(onebot.mediaActionTimeout),
                maxFrameBytes: onebot.maxFrameBytes, maxBodyBytes: min(onebot.maxFrameBytes, max(configuration.server.maxBodyBytes, 1 << 20)),
                maxMessageLength: onebot.maxMessageLength, replyWait: .seconds(onebot.replyWait), heartbeatGrace: .seconds(onebot.heartbeatGrace)),
            engine: engine, outbox: outbox, httpClient: client, metrics: metrics, logger: logger)
    }
}
