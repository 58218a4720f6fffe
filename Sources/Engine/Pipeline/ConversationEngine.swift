// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle

/// The one engine behind every door: de-duplication, chat policy, sessions, the model, the reply.
///
/// A door calls ``submit(_:sink:)`` for each inbound message; the engine decides at once whether
/// to answer (so chatter that is not for the bot costs nothing), then runs the turn on the
/// `realtime` lane and hands the ``Reply`` to the door's ``ReplySink``.
///
/// ```swift
/// let engine = ConversationEngine(settings: .init(), store: store, models: models, lane: lane, logger: logger)
/// switch await engine.submit(event, sink: oneBotSink) { case .accepted, .ignored, .duplicate, .busy: break }
/// ```
public final class ConversationEngine: Sendable {
    /// What happened to a submitted event.
    public enum Admission: Sendable, Hashable {
        /// Queued for an answer.
        case accepted
        /// Seen before; dropped.
        case duplicate
        /// Not for the bot (or from the bot itself).
        case ignored(ChatDecision.IgnoreReason)
        /// The lane is full; the user got a short "busy" reply (``notice``).
        case busy
        /// Over a rate limit; dropped (the first time in a period, with a short "slow down" reply).
        /// The limit admits the user again after `retryAfter`.
        case limited(retryAfter: Duration)

        /// What the user is told when the message was not taken for being busy or over a limit;
        /// nil for the other outcomes.
        public var notice: String? {
            switch self {
            case .busy: "I'm busy right now, please try again in a moment."
            case .limited(let retryAfter): "You're sending messages too fast. Please wait \(retryAfter.retryAfterSeconds) s and try again."
            case .accepted, .duplicate, .ignored: nil
            }
        }
    }

    public let settings: EngineSettings
    public let models: ChatModels
    private let router: ChatRouter
    private let store: any ConversationStore
    private let lane: Lane
    private let noticeLane: Lane?
    private let deduplicator: InboundDeduplicator
    private let cache: any Cache
    private let responseCache: ResponseCache?
    private let ledger = SentMessageLedger()
    private let metrics: HubMetrics
    private let logger: Logger

    public init(
        settings: EngineSettings, store: any ConversationStore, models: ChatModels, router: ChatRouter, lane: Lane, noticeLane: Lane? = nil,
        cache: any Cache = InProcessCache(), responseCache: ResponseCache? = nil, metrics: HubMetrics = .disabled, logger: Logger
    ) {
        self.noticeLane = noticeLane
        self.router = router
        self.settings = settings
        self.cache = cache
        self.responseCache = responseCache
        self.store = store
        self.models = models
        self.lane = lane
        self.metrics = metrics
        self.logger = logger
        self.deduplicator = InboundDeduplicator(window: settings.dedupeWindow, capacity: settings.dedupeCapacity)
    }

    /// Loads the de-duplication keys of the last window from the store, so that events delivered
    /// again after a restart are still recognised.
    public func restoreRecentInbound() async throws {
        let now = Date().timeIntervalSince1970
        for (key, receivedAt) in try await store.inboundKeys(since: Date(timeIntervalSince1970: now - settings.dedupeWindow)) {
            _ = deduplicator.firstSighting(key, bot: Self.restoredBucket(for: key), at: receivedAt.timeIntervalSince1970)
        }
    }

    private static func restoredBucket(for key: String) -> String {
        // Event keys start with "<platform>:<bot>:"; the bucket is "<platform>:<bot>".
        let parts = key.split(separator: ":", maxSplits: 2)
        return parts.count >= 2 ? "\(parts[0]):\(parts[1])" : "restored"
    }

    /// Records that `bot` on `platform` sent the message `id` (so replies to it address the bot).
    public func recordSent(_ id: String, platform: Platform, bot: String) {
        ledger.record(id, platform: platform, bot: bot)
    }

    /// Takes an inbound message. Returns at once; the answer is delivered to `sink` later.
    public func submit(_ event: ConversationEvent, sink: any ReplySink) async -> Admission {
        let door = event.platform.rawValue
        guard deduplicator.firstSighting(event.id, bot: "\(event.platform.rawValue):\(event.botID)") else {
            metrics.duplicateDropped(door: door)
            logger.debug("duplicate event dropped", metadata: ["hub.event": "\(event.id)"])
            return .duplicate
        }
        let quotesBot = event.content.contains { segment in
            if case .quote(let id) = segment { return ledger.contains(id, platform: event.platform, bot: event.botID) }
            return false
        }
        let decision = settings.policy.decide(event, quotesBot: quotesBot)
        if case .ignore(let reason) = decision { return .ignored(reason) }
        // Other hub processes on the same Redis may have taken this event already. Asked only for
        // events the bot would answer, so chatter costs no round trip. Fails open (in process).
        if cache.isShared, !((try? await cache.insertIfAbsent("dedupe:" + event.id, ttl: .seconds(settings.dedupeWindow))) ?? true) {
            metrics.duplicateDropped(door: door)
            logger.debug("duplicate event dropped (taken by another hub)", metadata: ["hub.event": "\(event.id)"])
            return .duplicate
        }
        if let verdict = await rateLimit(event), !verdict.allowed {
            metrics.rateLimited(door: door, notified: verdict.shouldNotify)
            logger.info(
                "rate limited", metadata: ["hub.user": "\(event.scope.user)", "hub.retry_after": "\(verdict.retryAfter)"])
            let admission = Admission.limited(retryAfter: verdict.retryAfter)
            if verdict.shouldNotify, let notice = admission.notice {
                await notify(.text(notice, kind: .notice), for: event, sink: sink)
            }
            return admission
        }
        let accepted = lane.submit { [self] in
            await self.process(event, decision: decision, sink: sink)
        }
        if accepted { return .accepted }
        metrics.laneRefused(lane: lane.name)
        logger.warning("lane full, event refused", metadata: ["hub.lane": "\(lane.name)", "hub.event": "\(event.id)"])
        if let notice = Admission.busy.notice { await notify(.text(notice, kind: .notice), for: event, sink: sink) }
        return .busy
    }

    /// Sends a short notice ("busy", "slow down") without holding up the door: the door's reader is
    /// waiting for ``submit(_:sink:)`` and may be the one that must read the bot's answer to the
    /// send action. Best effort: when the notice lane is full the notice is dropped.
    private func notify(_ reply: Reply, for event: ConversationEvent, sink: any ReplySink) async {
        let decorated = decorate(reply, for: event, sink: sink)
        guard let noticeLane else {
            await deliver(decorated, for: event, sink: sink)
            return
        }
        if !noticeLane.submit({ [self] in await self.deliver(decorated, for: event, sink: sink) }) {
            metrics.laneRefused(lane: noticeLane.name)
        }
    }

    /// Checks the per-user and per-group limits; nil when none is configured.
    private func rateLimit(_ event: ConversationEvent) async -> RateLimitVerdict? {
        let platform = event.platform.rawValue
        var rules = [RateLimitRule]()
        if let rate = settings.rateLimitPerUser(on: event.platform) {
            rules.append(RateLimitRule(key: "rate:user:\(platform):\(event.scope.user)", count: rate.count, period: rate.period))
        }
        if let group = event.scope.group, let rate = settings.rateLimitPerGroup {
            rules.append(RateLimitRule(key: "rate:group:\(platform):\(group)", count: rate.count, period: rate.period))
        }
        guard !rules.isEmpty else { return nil }
        return try? await cache.admit(rules, noticeKey: "notice:\(platform):\(event.scope.user)")
    }

    /// The session `key`'s settings and its most recent `limit` messages (oldest first), for doors
    /// that show the conversation so far.
    public func session(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot {
        try await store.snapshot(key, limit: limit)
    }

    // MARK: Turn

    private func process(_ event: ConversationEvent, decision: ChatDecision, sink: any ReplySink) async {
        var logger = self.logger
        logger[metadataKey: "hub.bot"] = "\(event.botID)"
        logger[metadataKey: "hub.user"] = "\(event.scope.user)"
        if let group = event.scope.group { logger[metadataKey: "hub.group"] = "\(group)" }
        let key = SessionKey(event: event, scope: settings.sessionScope)
        var reply: Reply
        do {
            switch decision {
            case .command(let command):
                reply = try await run(command, key: key)
                _ = try await store.recordInbound(event.id, at: event.receivedAt)
            case .chat(let text):
                reply = try await chat(text, event: event, key: key, sink: sink, logger: logger)
            case .ignore:
                return
            }
        } catch {
            logger.error("turn failed", metadata: ["error": "\(error)"])
            reply = .text("Sorry, something went wrong on my side. Please try again.", kind: .failure)
        }
        await deliver(decorate(reply, for: event, sink: sink), for: event, sink: sink, logger: logger)
    }

    private func chat(_ text: String, event: ConversationEvent, key: SessionKey, sink: any ReplySink, logger: Logger) async throws -> Reply {
        if text.isEmpty {
            return .text("Hi! Ask me anything, or send \(settings.policy.prefixes.first ?? "/")help for commands.")
        }
        let snapshot = try await store.snapshot(key, limit: settings.history.maxTurns * 2)
        guard !models.isEmpty, let model = snapshot.settings.model ?? models.defaultModel else {
            return .text(
                "No LLM provider is configured on this hub yet, so I cannot answer. (Operator: set OPENAI_BASE_URL and OPENAI_API_KEY, or add llm.providers to hub.yaml.)",
                kind: .failure)
        }
        let userText = key.user == nil && event.scope.group != nil ? "\(event.sender.name.isEmpty ? event.sender.id : event.sender.name): \(text)" : text
        var messages = [ChatMessage(role: .system, content: snapshot.settings.persona ?? settings.persona)]
        messages += settings.history.window(snapshot.history).map { ChatMessage(role: $0.role, content: $0.content) }
        messages.append(ChatMessage(role: .user, content: userText))
        let request = ChatRequest(model: model, messages: messages)
        let started = ContinuousClock.now
        let completion: ChatCompletion
        let cacheEntry = ResponseCache.entry(for: request, in: responseCache)
        if let cached = await cacheEntry.lookup() {
            metrics.responseCache("hit")
            completion = cached
        } else {
            do {
                // The router tries every route it may (retries, fallbacks) before giving up. A door
                // that shows progress gets the text as it is written.
                let routed: ChatRouter.Routed
                if let streaming = sink as? any StreamingReplySink {
                    routed = try await router.stream(request) { _, delta in
                        if case .content(let piece) = delta, !piece.isEmpty { await streaming.deliverDelta(piece, answering: event) }
                    }
                } else {
                    routed = try await router.complete(request)
                }
                metrics.llmRequest(provider: routed.provider, model: routed.model, outcome: "ok", duration: ContinuousClock.now - started)
                completion = routed.completion
            } catch {
                let kind = (error as? ChatProviderError)?.kind.rawValue ?? "error"
                metrics.llmRequest(provider: "router", model: model, outcome: kind, duration: ContinuousClock.now - started)
                logger.warning("LLM request failed on every route", metadata: ["hub.model": "\(model)", "error": "\(error)"])
                return .text("Sorry, I couldn't get an answer right now. Please try again in a moment.", kind: .failure)
            }
            if cacheEntry.isEnabled {
                metrics.responseCache("miss")
                await cacheEntry.keep(completion)
            }
        }
        let answer = completion.content.trimmingCharacters(in: .whitespacesAndNewlines)
        try await store.append(
            [StoredMessage(role: .user, content: userText, createdAt: event.receivedAt), StoredMessage(role: .assistant, content: answer)],
            to: key, inboundKey: (event.id, event.receivedAt))
        return Reply(
            parts: [.text(answer.isEmpty ? "(the model returned an empty answer)" : answer)], model: completion.model, usage: completion.usage)
    }

    private func run(_ command: ChatCommand, key: SessionKey) async throws -> Reply {
        let prefix = settings.policy.prefixes.first ?? "/"
        switch command {
        case .help:
            return .text(
                """
                Commands:
                \(prefix)help: this list
                \(prefix)reset: forget this conversation and start over
                \(prefix)model [name]: show the model, or switch to another
                \(prefix)persona [text | reset]: show or set how I behave
                """)
        case .reset:
            try await store.reset(key)
            return .text("Conversation cleared. Let's start fresh.")
        case .model(nil):
            let current = try await store.snapshot(key, limit: 0).settings.model ?? models.defaultModel
            let available = models.available
            return .text(
                "Current model: \(current ?? "none"). "
                    + (available.isEmpty ? "No models are configured." : "Available: \(available.joined(separator: ", ")).")
            )
        case .model(let name?):
            if name.lowercased() == "default" || name.lowercased() == "reset" {
                try await store.updateSettings(key) { $0.model = nil }
                return .text("Model reset to the default (\(models.defaultModel ?? "none")).")
            }
            guard models.available.contains(name) else {
                return .text("Unknown model \"\(name)\". Available: \(models.available.joined(separator: ", ")).")
            }
            try await store.updateSettings(key) { $0.model = name }
            return .text("Model switched to \(name).")
        case .persona(nil):
            let persona = try await store.snapshot(key, limit: 0).settings.persona
            return .text("Current persona: \(persona ?? settings.persona)")
        case .persona(let text?):
            if text.lowercased() == "reset" || text.lowercased() == "default" {
                try await store.updateSettings(key) { $0.persona = nil }
                return .text("Persona reset to the default.")
            }
            guard text.unicodeScalars.count <= settings.maxPersonaLength else {
                return .text("That persona is too long (at most \(settings.maxPersonaLength) characters).")
            }
            try await store.updateSettings(key) { $0.persona = text }
            return .text("Persona updated.")
        }
    }

    // MARK: Delivery

    /// Puts the quote and mention in front of a group reply and splits long text (except for doors
    /// that stream, which take an answer whole).
    func decorate(_ reply: Reply, for event: ConversationEvent, sink: any ReplySink) -> Reply {
        let splits = !(sink is any StreamingReplySink)
        var parts = [ReplyPart]()
        if event.scope.group != nil {
            if let id = event.platformMessageID { parts.append(.quote(id)) }
            parts.append(.mention(event.sender.id))
        }
        for part in reply.parts {
            if case .text(let text) = part, splits {
                parts += TextSplitter.split(text, limit: settings.maxReplyLength).map(ReplyPart.text)
            } else {
                parts.append(part)
            }
        }
        var decorated = reply
        decorated.parts = parts
        return decorated
    }

    private func deliver(_ reply: Reply, for event: ConversationEvent, sink: any ReplySink, logger: Logger? = nil) async {
        let door = event.platform.rawValue
        do {
            let ids = try await sink.deliver(reply, answering: event)
            for id in ids { ledger.record(id, platform: event.platform, bot: event.botID) }
            metrics.replySent(door: door, outcome: "sent")
        } catch {
            metrics.replySent(door: door, outcome: "failed")
            (logger ?? self.logger).warning("reply not delivered", metadata: ["hub.event": "\(event.id)", "error": "\(error)"])
        }
    }
}
