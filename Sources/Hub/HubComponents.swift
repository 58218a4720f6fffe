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
    /// Fired by `beforeServerStarts` once the database is migrated; services that touch it wait.
    let databaseReady = StartSignal()
    let store: any ConversationStore
    /// Present when `redis.url` is set; runs as a service and keeps its connections up.
    let redis: RedisClient?
    let outbox: Outbox
    let models: ChatModels
    let router: ChatRouter
    /// LLM answers kept for `llm.caching.ttl`; nil when caching is off.
    let responseCache: ResponseCache?
    /// Every LLM attempt, written to SQLite in the background.
    let usage: UsageLedger
    let realtimeLane: Lane
    /// Short notices ("busy", "slow down") sent off the doors' read paths.
    let noticeLane: Lane
    /// Speech synthesis and recognition, on the `cpu` lane.
    let speech: SpeechComponents
    /// Image generators, the `batch` lane's durable jobs, and the pictures they make.
    let images: ImageComponents
    /// What `/draw` and the image routes use of ``images``.
    let imageJobs: ImageJobs
    let engine: ConversationEngine
    /// Answers what the previous run accepted and left unanswered.
    let replay: InboxReplayService
    /// Copies the write-ahead log into the database file beside the writes.
    let checkpointer: WALCheckpointer
    let oneBot: OneBotDoor
    /// The web chat door; nil when `web.enabled` is false.
    let web: WebChatDoor?
    /// The live voice door (`/ws/voice`, `/xiaozhi/v1/`).
    let voice: VoiceDoor
    /// Streaming speech recognition (`/api/v1/stream`).
    let streamingASR: StreamingASRDoor
    let httpClientService: HTTPClientService
    let metricsRegistry: PrometheusCollectorRegistry
    let metrics: HubMetrics
    /// The last warnings and errors logged (`/admin/errors`), secrets cut out.
    let recentLogs: RecentLogs
    /// The logger every component got: the caller's, also writing into ``recentLogs``.
    let logger: Logger

    /// - Parameters:
    ///   - configuration: the effective configuration.
    ///   - rootLogger: where the hub logs; ``logger`` writes there and into ``recentLogs``.
    init(_ configuration: HubConfiguration, logger rootLogger: Logger) throws {
        self.configuration = configuration
        recentLogs = RecentLogs(capacity: 200, secrets: configuration.secretValues)
        let logger = recentLogs.capturing(rootLogger)
        self.logger = logger
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        let metrics = HubMetrics(factory: factory)
        metricsRegistry = registry
        self.metrics = metrics

        database = try HubDatabase(path: configuration.storage.sqlitePath)
        checkpointer = WALCheckpointer(database: database, logger: logger)
        let sqlite = SQLiteConversationStore(database: database)
        outbox = Outbox(database: database)

        // Shared state: Redis when configured, with the in-process cache as its fail-open fallback.
        let caching = configuration.llm.caching
        let sharedState: any Cache
        var responseCache: (any Cache)?
        if let redisConfiguration = try configuration.redis.clientConfiguration() {
            let client = RedisClient(configuration: redisConfiguration, logger: logger) { up in metrics.redisUp(up) }
            metrics.redisUp(false)
            redis = client
            let remote = RedisCache(client: client, prefix: configuration.redis.keyPrefix)
            sharedState = FailOpenCache(primary: remote, fallback: InProcessCache(), metrics: metrics, logger: logger)
            if caching.enabled {
                responseCache = FailOpenCache(primary: remote, fallback: InProcessCache(capacity: caching.maxSize), metrics: metrics, logger: logger)
            }
            store = RedisHistoryStore(
                base: sqlite, client: client, prefix: configuration.redis.keyPrefix, ttl: .milliseconds(Int64(configuration.redis.historyTTL * 1000)),
                logger: logger)
        } else {
            redis = nil
            sharedState = InProcessCache()
            if caching.enabled { responseCache = InProcessCache(capacity: caching.maxSize) }
            store = CachedConversationStore(base: sqlite)
        }

        let llm = configuration.llm
        let longestTimeout = llm.providers.map(\.timeout).max() ?? 30
        httpClientService = HTTPClientService(
            connectTimeout: .seconds(llm.providers.map(\.connectTimeout).max() ?? 5), readTimeout: .seconds(max(60, longestTimeout)),
            fetchPolicy: FetchPolicy(allowedHosts: Set(configuration.voice.allowedHosts), maxBytes: configuration.stt.maxUploadBytes, timeout: .seconds(15)))
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
        var routes = [ChatRoute]()
        for (provider, settings) in zip(models.providers, llm.providers) {
            for model in settings.models {
                routes.append(
                    ChatRoute(
                        provider: provider, model: model.name, costPer1kTokens: model.costPer1kTokens, maxConcurrent: model.maxConcurrent,
                        contextWindow: model.contextWindow, priority: settings.priority, retryAttempts: settings.retryAttempts))
            }
        }
        let strategy: RoutingStrategy =
            switch llm.routing.strategy {
            case .intelligent:
                .intelligent(cost: llm.routing.weights.cost, latency: llm.routing.weights.latency, successRate: llm.routing.weights.successRate)
            case .priority: .priority
            case .roundRobin: .roundRobin
            case .leastBusy: .leastBusy
            }
        let breaker = llm.circuitBreaker
        let usage = UsageLedger(database: database, logger: logger)
        self.usage = usage
        router = ChatRouter(
            routes: routes,
            settings: .init(
                strategy: strategy,
                breaker: .init(
                    failureThreshold: breaker.failureThreshold, recoveryTimeout: .milliseconds(Int64(breaker.recoveryTimeout * 1000)),
                    halfOpenMaxCalls: breaker.halfOpenMaxCalls),
                deadline: .milliseconds(Int64(llm.routing.deadline * 1000))),
            logger: logger, onAttempt: { usage.record($0) })

        self.responseCache = responseCache.map { ResponseCache(cache: $0, ttl: .milliseconds(Int64(caching.ttl * 1000))) }
        let lanes = configuration.lanes
        realtimeLane = Lane(name: "realtime", maxConcurrent: lanes.realtime.maxConcurrent, queueLimit: lanes.realtime.queue, metrics: metrics)
        noticeLane = Lane(name: "notices", maxConcurrent: lanes.notices.maxConcurrent, queueLimit: lanes.notices.queue, metrics: metrics)

        let chat = configuration.chat
        let settings = EngineSettings(
            policy: ChatPolicy(
                groupTriggers: Set(chat.groupTrigger.compactMap { ChatPolicy.GroupTrigger(rawValue: $0.rawValue) }),
                prefixes: chat.prefixes, nicknames: chat.nicknames),
            sessionScope: SessionKey.SessionScope(rawValue: chat.sessionScope.rawValue) ?? .perUser,
            history: HistoryLimits(maxTurns: chat.history.maxTurns, maxTokens: chat.history.maxTokens, maxBytes: chat.history.maxBytes),
            persona: chat.persona, sessionQueueLimit: chat.sessionQueue,
            dedupeWindow: chat.dedupeWindow, dedupeCapacity: chat.dedupeCapacity,
            rateLimitPerUser: chat.rateLimit.perUser.rate, rateLimitPerGroup: chat.rateLimit.perGroup.rate,
            rateLimitPerUserByPlatform: [.web: configuration.web.rateLimit.rate, .api: configuration.gateway.rateLimit.rate],
            replayWindow: configuration.engine.replayWindow)
        speech = SpeechComponents(configuration, client: client, usage: usage, metrics: metrics, logger: logger)
        images = ImageComponents(
            configuration, database: database, databaseReady: databaseReady, client: client, fetcher: httpClientService.fetcher, usage: usage,
            metrics: metrics, logger: logger)
        imageJobs = ImageJobs(
            queue: images.jobs, media: images.media, width: images.defaultSize.width, height: images.defaultSize.height,
            isConfigured: !images.router.isEmpty)
        engine = ConversationEngine(
            settings: settings, store: store, inbox: sqlite.inbox, models: models, router: router, lane: realtimeLane, noticeLane: noticeLane, cache: sharedState,
            responseCache: self.responseCache, metrics: metrics, voice: speech.composer,
            images: imageJobs,
            logger: logger)

        let onebot = configuration.onebot
        oneBot = OneBotDoor(
            settings: OneBotDoorSettings(
                accessToken: onebot.accessToken?.value, secret: onebot.secret?.value, httpAPI: onebot.httpAPIBySelfID,
                actionTimeout: .seconds(onebot.actionTimeout), mediaActionTimeout: .seconds(onebot.mediaActionTimeout),
                maxFrameBytes: onebot.maxFrameBytes, maxBodyBytes: min(onebot.maxFrameBytes, max(configuration.server.maxBodyBytes, 1 << 20)),
                maxMessageLength: min(onebot.maxMessageLength, chat.maxReplyLength), replyWait: .seconds(onebot.replyWait), heartbeatGrace: .seconds(onebot.heartbeatGrace)),
            engine: engine, outbox: outbox, httpClient: client, mediaFetcher: httpClientService.fetcher, metrics: metrics, logger: logger)

        let webSettings = configuration.web
        web =
            webSettings.enabled
            ? WebChatDoor(
                settings: WebChatDoorSettings(
                    accessToken: webSettings.accessToken?.value, allowedOrigins: webSettings.allowedOrigins,
                    maxMessageBytes: webSettings.maxMessageBytes, historyMessages: webSettings.historyMessages,
                    maxConnections: webSettings.maxConnections),
                engine: engine, metrics: metrics, logger: logger)
            : nil
        voice = VoiceDoor(settings: configuration.voice.doorSettings(allowedOrigins: configuration.web.allowedOrigins), engine: engine, speech: speech.engine,
            webBotID: web?.settings.botID, metrics: metrics, logger: logger)
        streamingASR = StreamingASRDoor(settings: configuration.voice.streamingSettings, speech: speech.engine, metrics: metrics, logger: logger)
        // Finished image jobs go back to the chat that asked, through its door.
        let engine = self.engine
        let jobSinks: [Platform: any AnswerSink] = [.qq: oneBot.replySink, .web: web?.jobSink ?? HistoryOnlySink(), .voice: HistoryOnlySink()]
        images.jobs.deliver { job in await engine.deliver(job) { jobSinks[$0] } }
        replay = InboxReplayService(engine: engine, oneBot: oneBot, ready: databaseReady, logger: logger)
    }
}

extension HubComponents {
    /// Every provider route's health, LLM first, then speech synthesis, recognition and images.
    var routeHealth: [(kind: String, health: RouteHealth)] {
        let speech = speech.engine
        return router.health.map { ("llm", $0) } + speech.synthesis.health.map { ("tts", $0) }
            + speech.recognition.health.map { ("stt", $0) } + images.router.health.map { ("image", $0) }
    }
}

extension ChatSettings.RateLimit {
    /// The engine's rate; nil when the limit is off.
    var rate: Rate? {
        isOff ? nil : Rate(count: count, period: .milliseconds(Int64(seconds * 1000)))
    }
}
