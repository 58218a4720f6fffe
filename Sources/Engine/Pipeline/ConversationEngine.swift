// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The one engine behind every door: admission, ordered sessions, history, the model, the answer.
///
/// A door hands each inbound message to ``submit(_:to:)``, which decides at once, without any I/O,
/// whether to take it (so a door's socket reader never waits on Redis or SQLite): de-duplication,
/// the chat policy, the session's queue and the `realtime` lane. Turns of one ``SessionKey`` run one
/// at a time in arrival order (``SessionScheduler``); `/stop` and `/reset` jump the queue. Each turn
/// then checks what needs the network (other hubs' dedupe keys, rate limits), reads the history,
/// asks the ``ChatRouter`` (or the response cache), stores the exchange and streams the answer to
/// the door's ``AnswerSink`` as ``AnswerPart``s. Doors that want to read the answer as a sequence
/// use ``answer(_:showsProgress:)``.
///
/// ```swift
/// let engine = ConversationEngine(settings: .init(), store: store, models: models, router: router, lane: lane, logger: logger)
/// switch engine.submit(event, to: oneBotSink) { case .accepted, .ignored, .duplicate, .busy, .limited: break }
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
        /// The lane or the session's queue is full; the user got a short "busy" reply (``notice``).
        case busy
        /// Over a rate limit; dropped (the first time in a period, with a short "slow down" reply).
        /// The limit admits the user again after `retryAfter`. Decided when the turn comes up, so it
        /// arrives as an ``AnswerPart/notice(_:reason:)``.
        case limited(retryAfter: Duration)

        /// What the user is told when the message was not taken for being busy or over a limit;
        /// nil for the other outcomes.
        public var notice: String? {
            switch self {
            case .busy: "I'm busy right now, please try again in a moment."
            case .limited(let retryAfter): "You're sending messages too fast. Please wait \(retryAfter.retryAfterSeconds) s and try again."
            case .duplicate: "This message was answered already."
            case .accepted, .ignored: nil
            }
        }
    }

    public let settings: EngineSettings
    public let models: ChatModels
    private let router: ChatRouter
    let store: any ConversationStore
    let inbox: any Inbox
    let scheduler: SessionScheduler
    private let noticeLane: Lane?
    private let deduplicator: InboundDeduplicator
    private let cache: any Cache
    private let responseCache: ResponseCache?
    private let ledger = SentMessageLedger()
    let turnCounter = Atomic<UInt64>(0)
    let metrics: HubMetrics
    let logger: Logger
    /// Speaks answers for sessions that turned `/voice on`; nil when the hub has no speech.
    let voice: SpokenReplyComposer?
    /// `/draw`'s queue and pictures; nil when the hub has none.
    let images: ImageJobs?

    public init(
        settings: EngineSettings, store: any ConversationStore, inbox: any Inbox, models: ChatModels, router: ChatRouter, lane: Lane,
        noticeLane: Lane? = nil,
        cache: any Cache = InProcessCache(), responseCache: ResponseCache? = nil, metrics: HubMetrics = .disabled,
        voice: SpokenReplyComposer? = nil, images: ImageJobs? = nil, logger: Logger
    ) {
        self.images = images
        self.voice = voice
        self.noticeLane = noticeLane
        self.router = router
        self.settings = settings
        self.cache = cache
        self.responseCache = responseCache
        self.store = store
        self.inbox = inbox
        self.models = models
        self.scheduler = SessionScheduler(lane: lane, queueLimit: settings.sessionQueueLimit)
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

    /// The session an event belongs to.
    public func sessionKey(for event: ConversationEvent) -> SessionKey {
        SessionKey(event: event, scope: settings.sessionScope)
    }

    /// Sessions with a turn running or waiting.
    public var activeSessions: Int { scheduler.activeSessions }

    // MARK: Admission

    /// Takes an inbound message without waiting for anything (no I/O happens here): the answer is
    /// delivered to `sink` later, part by part. A refused message (``Admission/busy``) gets its
    /// notice through `sink` too, off the caller's task.
    ///
    /// An accepted message goes into the durable inbox (group-committed, off the caller's task)
    /// before its turn begins, so a restart answers it if the hub dies first; a door that
    /// acknowledges messages uses ``submitDurably(_:to:)`` to wait for that.
    @discardableResult
    public func submit(_ event: ConversationEvent, to sink: any AnswerSink) -> Admission {
        submit(event, to: sink, turnID: turnCounter.wrappingAdd(1, ordering: .relaxed).newValue, journal: true).admission
    }

    /// ``submit(_:to:)`` for doors that acknowledge what they accept (OneBot's HTTP POST answers 204):
    /// returns once an accepted message is in the durable inbox. `stored` is false when it could not
    /// be stored (the database failed); the message is answered all the same, but a crash before
    /// its answer would lose it, so the door should say so.
    public func submitDurably(_ event: ConversationEvent, to sink: any AnswerSink) async -> (admission: Admission, stored: Bool) {
        let (admission, stored) = submit(event, to: sink, turnID: turnCounter.wrappingAdd(1, ordering: .relaxed).newValue, journal: true)
        guard let stored else { return (admission, true) }
        do {
            try await stored.stored()
            return (admission, true)
        } catch {
            return (admission, false)
        }
    }

    /// Takes an inbound message and returns its answer as a sequence, with the admission verdict.
    /// A refused message's sequence holds its notice alone; an ignored one's is empty.
    public func answer(_ event: ConversationEvent, showsProgress: Bool, wantsSentences: Bool = false) -> (Admission, AnswerStream) {
        let stream = AnswerStream(showsProgress: showsProgress, wantsSentences: wantsSentences)
        let id = turnCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let key = sessionKey(for: event)
        stream.whenCancelled { [scheduler] in await scheduler.cancel(id, in: key) }
        // Its reader waits for the answer, and asks again if the hub dies: not journaled.
        let admission = submit(event, to: stream, turnID: id, journal: false).admission
        switch admission {
        case .ignored, .duplicate: stream.close()
        case .accepted, .busy, .limited: break
        }
        return (admission, stream)
    }

    private func submit(_ event: ConversationEvent, to sink: any AnswerSink, turnID: UInt64, journal: Bool) -> (
        admission: Admission, stored: InboxReceipt?
    ) {
        let door = event.platform.rawValue
        guard deduplicator.firstSighting(event.id, bot: "\(event.platform.rawValue):\(event.botID)") else {
            metrics.duplicateDropped(door: door)
            logger.debug("duplicate event dropped", metadata: ["hub.event": "\(event.id)"])
            return (.duplicate, nil)
        }
        let quotesBot = event.content.contains { segment in
            if case .quote(let id) = segment { return ledger.contains(id, platform: event.platform, bot: event.botID) }
            return false
        }
        let decision = settings.policy.decide(event, quotesBot: quotesBot)
        if case .ignore(let reason) = decision { return (.ignored(reason), nil) }
        let key = sessionKey(for: event)
        // Into the inbox before its turn can begin; a refused message is marked answered with its notice.
        let stored = journal ? inbox.receive(event) : nil
        let turn = SessionScheduler.Turn(
            id: turnID,
            run: { [self] in await self.take(event, decision: decision, key: key, sink: sink, stored: stored) },
            dropped: { [self] in await self.finish(.cancelled, for: event, sink: sink) })
        let outcome: SessionScheduler.Outcome
        switch decision {
        case .command(.stop):
            // Jumps the queue: the running answer is cancelled now, the reply comes right after it.
            let stopped = scheduler.stop(key)
            outcome = scheduler.enqueue(
                .init(
                    id: turnID,
                    run: { [self] in
                        await self.finish(.final(self.decorate(.text(stopped ? "Stopped." : "Nothing to stop."), for: event)), for: event, sink: sink)
                    }, dropped: turn.dropped),
                for: key, jump: true)
        case .command(.reset):
            // Jumps the queue: what waits is dropped, what runs is cancelled, then the history goes.
            let dropped = scheduler.dropAll(key)
            scheduler.stop(key)
            // The turns taken out are told when the reset runs, or when it is dropped in its turn.
            let tellDropped: @Sendable () async -> Void = { for waiting in dropped { await waiting.dropped() } }
            outcome = scheduler.enqueue(
                .init(
                    id: turnID,
                    run: {
                        await tellDropped()
                        await turn.run()
                    },
                    dropped: {
                        await tellDropped()
                        await turn.dropped()
                    }),
                for: key, jump: true)
            if outcome != .queued, !dropped.isEmpty { Task { await tellDropped() } }
        default:
            outcome = scheduler.enqueue(turn, for: key)
        }
        switch outcome {
        case .queued:
            return (.accepted, stored)
        case .sessionFull:
            metrics.laneRefused(lane: "session")
            logger.info("session queue full, event refused", metadata: ["hub.session": "\(key)", "hub.event": "\(event.id)"])
        case .laneFull:
            // The lane counts its own refusals.
            logger.warning("lane full, event refused", metadata: ["hub.lane": "\(scheduler.lane.name)", "hub.event": "\(event.id)"])
        }
        notify(.busy, for: event, sink: sink)
        return (.busy, stored)
    }

    /// Sends a refusal's notice off the caller's task (a door's reader may be the caller). A door
    /// reading an ``AnswerStream`` gets it at once (its reader waits for it); for the others it is
    /// best effort: when the notice lane is full the notice is dropped.
    private func notify(_ admission: Admission, for event: ConversationEvent, sink: any AnswerSink) {
        let part = notice(admission, show: true, for: event)
        if let stream = sink as? AnswerStream {
            stream.end(with: part)
            return
        }
        guard let noticeLane else {
            Task { await self.finish(part, for: event, sink: sink) }
            return
        }
        // A full notice lane drops the notice (and counts the refusal).
        noticeLane.submit { [self] in await self.finish(part, for: event, sink: sink) }
    }

    /// The notice part for a refusal; its text is empty when the user was told already.
    private func notice(_ admission: Admission, show: Bool, for event: ConversationEvent) -> AnswerPart {
        .notice(decorate(.text(show ? admission.notice ?? "" : "", kind: .notice), for: event), reason: admission)
    }

    /// What is decided when the turn comes up, with the network: another hub on the same Redis took
    /// the event already, or the user or group is over a rate limit. Fails open.
    private func laterAdmission(_ event: ConversationEvent) async -> (Admission, show: Bool)? {
        if cache.isShared, event.platform != .api, !((try? await cache.insertIfAbsent("dedupe:" + event.id, ttl: .seconds(settings.dedupeWindow))) ?? true) {
            metrics.duplicateDropped(door: event.platform.rawValue)
            logger.debug("duplicate event dropped (taken by another hub)", metadata: ["hub.event": "\(event.id)"])
            return (.duplicate, false)
        }
        if let verdict = await rateLimit(event), !verdict.allowed {
            metrics.rateLimited(door: event.platform.rawValue, notified: verdict.shouldNotify)
            logger.info("rate limited", metadata: ["hub.user": "\(event.scope.user)", "hub.retry_after": "\(verdict.retryAfter)"])
            return (.limited(retryAfter: verdict.retryAfter), verdict.shouldNotify)
        }
        return nil
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

    /// One turn of a session, on the lane: the network admission, then the command or the chat.
    func take(
        _ event: ConversationEvent, decision: ChatDecision, key: SessionKey, sink: any AnswerSink, stored: InboxReceipt?,
        replayed: Bool = false
    ) async {
        var logger = self.logger
        logger[metadataKey: "hub.bot"] = "\(event.botID)"
        logger[metadataKey: "hub.user"] = "\(event.scope.user)"
        if let group = event.scope.group { logger[metadataKey: "hub.group"] = "\(group)" }
        if let stored {
            do {
                try await stored.stored()
            } catch {
                logger.error("event not stored in the inbox; answering it anyway", metadata: ["hub.event": "\(event.id)", "error": "\(error)"])
            }
        }
        if stored != nil || replayed { inbox.markAnswering(event.id) }
        // A replayed event passed the network admission before the hub stopped.
        if replayed {
        } else if case .command(.reset) = decision {
        } else if let (refusal, show) = await laterAdmission(event) {
            await finish(notice(refusal, show: show, for: event), for: event, sink: sink, logger: logger)
            return
        }
        let part: AnswerPart
        do {
            switch decision {
            case .command(let command):
                let reply = try await run(command, key: key, event: event)
                part = .final(decorate(reply, for: event))
            case .chat(let text):
                part = try await chat(text, event: event, key: key, sink: sink, logger: logger)
            case .ignore:
                return
            }
        } catch where Task.isCancelled || error is CancellationError {
            logger.debug("turn cancelled", metadata: ["hub.event": "\(event.id)"])
            part = .cancelled
        } catch {
            logger.error("turn failed", metadata: ["error": "\(error)"])
            part = .failure(decorate(.text("Sorry, something went wrong on my side. Please try again.", kind: .failure), for: event))
        }
        await finish(part, for: event, sink: sink, logger: logger)
    }

    private func chat(_ typed: String, event: ConversationEvent, key: SessionKey, sink: any AnswerSink, logger: Logger) async throws -> AnswerPart {
        var text = typed
        if let voice = event.content.firstAudio {
            // A voice message: what was said is the message (and what the history keeps).
            switch await listen(to: voice, of: event, sink: sink, logger: logger) {
            case .success(let spoken):
                let rest = typed.replacingOccurrences(of: ChatPolicy.voicePlaceholder, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
                text = rest.isEmpty ? spoken : rest + " " + spoken
            case .failure(let refusal):
                return .failure(decorate(.text(refusal.message, kind: .failure), for: event))
            }
        }
        if text.isEmpty {
            return .final(decorate(.text("Hi! Ask me anything, or send \(settings.policy.prefixes.first ?? "/")help for commands."), for: event))
        }
        let snapshot = try await store.snapshot(key, limit: settings.history.maxTurns * 2)
        guard !models.isEmpty, let model = snapshot.settings.model ?? models.defaultModel else {
            return .failure(
                decorate(
                    .text(
                        "No LLM provider is configured on this hub yet, so I cannot answer. (Operator: set OPENAI_BASE_URL and OPENAI_API_KEY, or add llm.providers to hub.yaml.)",
                        kind: .failure), for: event))
        }
        let userText = key.user == nil && event.scope.group != nil ? "\(event.sender.name.isEmpty ? event.sender.id : event.sender.name): \(text)" : text
        var messages = [ChatMessage(role: .system, content: snapshot.settings.persona ?? settings.persona)]
        messages += settings.history.window(snapshot.history).map { ChatMessage(role: $0.role, content: $0.content) }
        messages.append(ChatMessage(role: .user, content: userText))
        let request = ChatRequest(model: model, messages: messages)
        let completion: ChatCompletion
        do {
            completion = try await complete(request, answering: event, sink: sink)
        } catch let error as ChatProviderError {
            logger.warning("LLM request failed on every route", metadata: ["hub.model": "\(model)", "error": "\(error)"])
            return .failure(
                decorate(.text("Sorry, I couldn't get an answer right now. Please try again in a moment.", kind: .failure), for: event), error: error)
        }
        // Stopped while the answer was written: nothing of it is kept.
        try Task.checkCancellation()
        let answer = completion.content.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = answer.isEmpty ? "(the model returned an empty answer)" : answer
        // The answer joins the history and the inbox in one transaction: from here a restart resends
        // it rather than asking the model again.
        try await store.append(
            [StoredMessage(role: .user, content: userText, createdAt: event.receivedAt), StoredMessage(role: .assistant, content: answer)],
            to: key, answering: InboxReply(eventKey: event.id, receivedAt: event.receivedAt, text: shown))
        var parts: [ReplyPart] = [.text(shown)]
        if snapshot.settings.voice, sink.deliversAudio, !answer.isEmpty, let voice {
            parts = await voice.reply(to: answer, text: parts, logger: logger)
        }
        return .final(
            decorate(
                Reply(parts: parts, model: completion.model, usage: completion.usage, finishReason: completion.finishReason),
                for: event))
    }

    /// What the voice message `reference` says, or the short reply its user gets when it cannot be
    /// heard (no speech here, the door cannot fetch it, undecodable, nothing said).
    private func listen(to reference: MediaReference, of event: ConversationEvent, sink: any AnswerSink, logger: Logger) async -> Result<
        String, VoiceRefusal
    > {
        guard let speech = voice?.speech, let media = sink.media else {
            return .failure(VoiceRefusal(message: "Sorry, I can't listen to voice messages here. Please type instead."))
        }
        do {
            let audio = try await media.audio(reference, of: event)
            let heard = try await speech.transcribe(audio)
            let text = heard.transcript.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return .failure(VoiceRefusal(message: "Sorry, I couldn't make out any words in that voice message.")) }
            logger.debug("voice message transcribed", metadata: ["hub.provider": "\(heard.provider)", "hub.characters": "\(text.count)"])
            return .success(text)
        } catch {
            logger.info("voice message not understood", metadata: ["hub.event": "\(event.id)", "error": "\(error)"])
            let busy = (error as? SpeechError)?.kind == .busy
            return .failure(
                VoiceRefusal(
                    message: busy
                        ? "Sorry, I'm too busy to listen right now. Please try again in a moment."
                        : "Sorry, I couldn't understand that voice message. Please try again or type it."))
        }
    }

    /// Answers `request` from the response cache or the router. A door that shows progress gets
    /// the text as it is written, and each sentence as it ends. Throws ``ChatProviderError`` when
    /// every route failed, `CancellationError` when the turn was stopped.
    private func complete(_ request: ChatRequest, answering event: ConversationEvent, sink: any AnswerSink) async throws -> ChatCompletion {
        let cacheEntry = ResponseCache.entry(for: request, in: responseCache)
        if let cached = await cacheEntry.lookup() {
            metrics.responseCache("hit")
            if sink.showsProgress, !cached.content.isEmpty { _ = try? await sink.receive(.delta(cached.content), answering: event) }
            return cached
        }
        let started = ContinuousClock.now
        let completion: ChatCompletion
        do {
            // The router tries every route it may (retries, fallbacks) before giving up.
            let routed: ChatRouter.Routed
            if sink.showsProgress {
                let sentences = sink.wantsSentences ? LockedValue(SentenceAccumulator()) : nil
                routed = try await router.stream(request) { _, delta in
                    guard case .content(let piece) = delta, !piece.isEmpty else { return }
                    _ = try? await sink.receive(.delta(piece), answering: event)
                    for sentence in sentences?.withLock({ $0.append(piece) }) ?? [] {
                        _ = try? await sink.receive(.sentence(sentence), answering: event)
                    }
                }
                if let rest = sentences?.withLock({ $0.finish() }) { _ = try? await sink.receive(.sentence(rest), answering: event) }
            } else {
                routed = try await router.complete(request)
            }
            metrics.llmRequest(provider: routed.provider, model: routed.model, outcome: "ok", duration: ContinuousClock.now - started)
            completion = routed.completion
        } catch where Task.isCancelled || error is CancellationError {
            metrics.llmRequest(provider: "router", model: request.model, outcome: "cancelled", duration: ContinuousClock.now - started)
            throw CancellationError()
        } catch {
            let failure = error as? ChatProviderError ?? ChatProviderError(kind: .transport, message: "\(error)")
            metrics.llmRequest(provider: "router", model: request.model, outcome: failure.kind.rawValue, duration: ContinuousClock.now - started)
            throw failure
        }
        if cacheEntry.isEnabled {
            metrics.responseCache("miss")
            await cacheEntry.keep(completion)
        }
        return completion
    }

    // MARK: Stateless requests

    /// Answers a whole conversation a program sent (the OpenAI-compatible API): the same
    /// admission (rate limit per `caller`, the lane), cache, routing and accounting as a chat turn,
    /// but no session history is read or written, and such requests never wait for each other.
    /// A failure's part carries the router's error.
    public func answer(_ request: ChatRequest, caller: String, showsProgress: Bool) -> (Admission, AnswerStream) {
        let stream = AnswerStream(showsProgress: showsProgress)
        let id = turnCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let event = ConversationEvent(
            id: "api:\(caller):\(id)", platform: .api, botID: "gateway", scope: .private(user: caller), sender: Sender(id: caller), content: [])
        // A session of its own: stateless requests are not ordered among themselves.
        let key = SessionKey(platform: .api, botID: "gateway", group: nil, user: "\(caller)#\(id)")
        stream.whenCancelled { [scheduler] in await scheduler.cancel(id, in: key) }
        let turn = SessionScheduler.Turn(
            id: id,
            run: { [self] in await self.take(request, event: event, sink: stream) },
            dropped: { [self] in await self.finish(.cancelled, for: event, sink: stream) })
        switch scheduler.enqueue(turn, for: key) {
        case .queued:
            return (.accepted, stream)
        case .sessionFull, .laneFull:
            logger.warning("lane full, API request refused", metadata: ["hub.lane": "\(scheduler.lane.name)"])
            notify(.busy, for: event, sink: stream)
            return (.busy, stream)
        }
    }

    private func take(_ request: ChatRequest, event: ConversationEvent, sink: any AnswerSink) async {
        if let (refusal, show) = await laterAdmission(event) {
            await finish(notice(refusal, show: show, for: event), for: event, sink: sink)
            return
        }
        let part: AnswerPart
        do {
            let completion = try await complete(request, answering: event, sink: sink)
            try Task.checkCancellation()
            part = .final(
                Reply(parts: [.text(completion.content)], model: completion.model, usage: completion.usage, finishReason: completion.finishReason))
        } catch let error as ChatProviderError {
            part = .failure(.text(error.message, kind: .failure), error: error)
        } catch {
            part = .cancelled
        }
        await finish(part, for: event, sink: sink)
    }

    private func run(_ command: ChatCommand, key: SessionKey, event: ConversationEvent) async throws -> Reply {
        let prefix = settings.policy.prefixes.first ?? "/"
        switch command {
        case .help:
            return .text(
                """
                Commands:
                \(prefix)help: this list
                \(prefix)reset: forget this conversation and start over
                \(prefix)stop: stop the answer being written
                \(prefix)model [name]: show the model, or switch to another
                \(prefix)persona [text | reset]: show or set how I behave
                \(prefix)voice [on | off]: hear the answers spoken too
                \(prefix)draw <what to draw>: make a picture (it comes when it is ready)
                """)
        case .stop:
            return .text("Stopped.")
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
        case .voice(nil):
            let on = try await store.snapshot(key, limit: 0).settings.voice
            guard voice != nil else { return .text("Voice replies are not available on this hub.") }
            return .text("Voice replies are \(on ? "on" : "off"). Send \(prefix)voice \(on ? "off" : "on") to switch.")
        case .voice(let choice?):
            let on: Bool
            switch choice.lowercased() {
            case "on", "yes", "1", "true", "开", "打开": on = true
            case "off", "no", "0", "false", "关", "关闭": on = false
            default: return .text("Send \(prefix)voice on or \(prefix)voice off.")
            }
            guard voice != nil || !on else { return .text("Voice replies are not available on this hub.") }
            try await store.updateSettings(key) { $0.voice = on }
            return .text(on ? "Voice replies on: I'll speak my answers too." : "Voice replies off.")
        case .draw(let prompt):
            return try await draw(prompt, for: event)
        }
    }

    // MARK: Delivery

    /// Puts the quote and the mention in front of a group reply. Splitting long text is the door's
    /// business: only it knows its platform's limits.
    func decorate(_ reply: Reply, for event: ConversationEvent) -> Reply {
        guard event.scope.group != nil, !reply.text.isEmpty else { return reply }
        var parts = [ReplyPart]()
        if let id = event.platformMessageID { parts.append(.quote(id)) }
        parts.append(.mention(event.sender.id))
        var decorated = reply
        decorated.parts = parts + reply.parts
        return decorated
    }

    /// Hands the terminal part of an answer to the door, remembers the ids of what it sent, and
    /// records the event answered. Between the door taking the reply and that record lies the
    /// only window in which a crash makes a restart send a reply twice.
    func finish(_ part: AnswerPart, for event: ConversationEvent, sink: any AnswerSink, logger: Logger? = nil) async {
        let door = event.platform.rawValue
        let outcome: InboxOutcome
        do {
            let ids = try await sink.receive(part, answering: event)
            for id in ids { ledger.record(id, platform: event.platform, bot: event.botID) }
            metrics.replySent(door: door, outcome: part == .cancelled ? "cancelled" : "sent")
            outcome = part == .cancelled ? .cancelled : .sent
        } catch {
            metrics.replySent(door: door, outcome: "failed")
            (logger ?? self.logger).warning("reply not delivered", metadata: ["hub.event": "\(event.id)", "error": "\(error)"])
            outcome = .undelivered
        }
        guard event.platform != .api else { return }
        inbox.markAnswered(event.id, receivedAt: event.receivedAt, outcome: outcome)
    }
}

/// Why a voice message got a short reply instead of an answer.
struct VoiceRefusal: Error {
    let message: String
}

extension Array where Element == Segment {
    /// The first voice clip's reference.
    var firstAudio: MediaReference? {
        for case .audio(let reference) in self { return reference }
        return nil
    }
}
