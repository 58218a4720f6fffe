// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import Logging
import Synchronization

/// The QQ door: OneBot 11 implementations connect here over reverse WebSocket or push events over
/// HTTP POST; their messages go to the ``ConversationEngine`` and the replies come back as actions.
///
/// ```swift
/// let door = OneBotDoor(settings: settings, engine: engine, outbox: outbox, httpClient: .shared, logger: logger)
/// door.addRoutes(to: router)   // HTTP POST callback; plain GETs on the WebSocket paths
/// // Upgrades: the server asks `door.webSocketHandshake(path:headers:)` before upgrading,
/// // then runs `door.serve(accepted, inbound:outbound:)` on the connection.
/// ```
public final class OneBotDoor: Sendable {
    /// What became of an action.
    enum Outcome: Sendable {
        case done(OneBotActionResponse)
        /// Kept in the outbox until the bot comes back.
        case queued
    }

    /// What the hub knows about a bot.
    public struct BotStatus: Sendable, Hashable {
        public var online: Bool?
        public var lastHeartbeat: Date?
        public var stale: Bool
        /// The interval the last heartbeat reported (bounded), in milliseconds.
        public var heartbeatIntervalMilliseconds: Int64? = nil
        /// How the last heartbeat came: `ws` (a reverse WebSocket) or `http` (HTTP POST).
        public var heartbeatTransport: String? = nil
    }

    public let settings: OneBotDoorSettings
    public let registry = OneBotConnectionRegistry()
    let engine: ConversationEngine
    let outbox: Outbox?
    let httpAPI: OneBotHTTPAPI
    let handshake: OneBotHandshake
    let metrics: HubMetrics
    let logger: Logger
    /// Fetches voice messages given as URLs, with the hub's guards; nil: only `base64://` and
    /// `get_record` answers that carry the audio.
    let mediaFetcher: GuardedFetcher?
    private let statuses = Mutex([Int64: BotStatus]())
    /// Bots whose outbox is being flushed, each with whether another flush was asked for meanwhile.
    private let flushes = Mutex([Int64: Bool]())

    public init(
        settings: OneBotDoorSettings, engine: ConversationEngine, outbox: Outbox?, httpClient: HTTPClient, mediaFetcher: GuardedFetcher? = nil,
        metrics: HubMetrics = .disabled, logger: Logger
    ) {
        self.mediaFetcher = mediaFetcher
        self.settings = settings
        self.engine = engine
        self.outbox = outbox
        self.httpAPI = OneBotHTTPAPI(client: httpClient, accessToken: settings.accessToken)
        self.handshake = OneBotHandshake(accessToken: settings.accessToken)
        self.metrics = metrics
        self.logger = logger
    }

    /// The status of every bot seen so far.
    public var botStatuses: [Int64: BotStatus] { statuses.withLock { $0 } }

    // MARK: Events

    /// Handles one event from a WebSocket (`connection`). Never waits: the engine takes the message
    /// without I/O (its inbox write is group-committed off this task), so the socket reader goes
    /// straight back to reading (and matches action responses the moment they arrive).
    func handle(_ event: OneBotEvent, selfID: Int64, connection: OneBotConnection?, transport: String) {
        guard let message = message(in: event, selfID: selfID, connection: connection) else { return }
        let admission = engine.submit(message, to: replySink)
        logger.trace("message event", metadata: ["hub.bot": "\(selfID)", "hub.transport": "\(transport)", "hub.admission": "\(admission)"])
    }

    /// Handles one event pushed by HTTP POST, returning once an accepted message is in the durable
    /// inbox (so the 204 that follows means the hub has it). False when it could not be stored.
    func handleDurably(_ event: OneBotEvent, selfID: Int64) async -> Bool {
        guard let message = message(in: event, selfID: selfID, connection: nil) else { return true }
        let (admission, stored) = await engine.submitDurably(message, to: replySink)
        logger.trace("message event", metadata: ["hub.bot": "\(selfID)", "hub.transport": "http", "hub.admission": "\(admission)"])
        return stored
    }

    /// Where the engine's answers to QQ messages go (also those a restart replays).
    public var replySink: any AnswerSink { OneBotReplySink(door: self) }

    /// The conversation message in `event`, after noting what it says about the bot; nil for
    /// events that are not messages.
    private func message(in event: OneBotEvent, selfID: Int64, connection: OneBotConnection?) -> ConversationEvent? {
        metrics.eventReceived(door: "onebot", type: event.postType)
        if let bodySelfID = event.selfID, bodySelfID != selfID {
            logger.notice(
                "self_id in the event differs from X-Self-ID; using the header",
                metadata: ["hub.bot": "\(selfID)", "hub.event_self_id": "\(bodySelfID)"])
        }
        switch event.postType {
        case "meta_event":
            noteMetaEvent(event, selfID: selfID, connection: connection)
        case "message":
            guard let conversationEvent = OneBotEventNormalizer.conversationEvent(from: event, selfID: selfID) else {
                metrics.malformedInput(door: "onebot", reason: "message_without_user")
                logger.notice("message event without user_id ignored", metadata: ["hub.bot": "\(selfID)"])
                return nil
            }
            return conversationEvent
        default:
            logger.debug(
                "event passed over",
                metadata: ["hub.bot": "\(selfID)", "hub.post_type": "\(event.postType)", "hub.type": "\(event.detailType ?? "")"])
        }
        return nil
    }

    private func noteMetaEvent(_ event: OneBotEvent, selfID: Int64, connection: OneBotConnection?) {
        switch event.detailType {
        case "heartbeat":
            var milliseconds: Int64?
            if let reported = event.raw["interval"]?.int64Value, let interval = OneBotHeartbeatInterval(reported: reported) {
                milliseconds = interval.milliseconds
                if interval.wasClamped {
                    metrics.malformedInput(door: "onebot", reason: "heartbeat_interval_out_of_range")
                    logger.warning(
                        "heartbeat interval out of range; clamped",
                        metadata: ["hub.bot": "\(selfID)", "hub.reported_ms": "\(reported)", "hub.used_ms": "\(interval.milliseconds)"])
                }
                connection?.heartbeatInterval.store(interval.milliseconds, ordering: .relaxed)
            }
            let online = event.raw["status"]?["online"]?.boolValue
            let wasOnline = statuses.withLock { statuses -> Bool? in
                let previous = statuses[selfID]?.online
                statuses[selfID] = BotStatus(
                    online: online, lastHeartbeat: Date(), stale: false, heartbeatIntervalMilliseconds: milliseconds,
                    heartbeatTransport: connection == nil ? "http" : "ws")
                Self.trim(&statuses)
                return previous
            }
            if online == false, wasOnline != false {
                logger.warning("bot reports its QQ account offline", metadata: ["hub.bot": "\(selfID)"])
            }
        case "lifecycle":
            logger.info("bot lifecycle", metadata: ["hub.bot": "\(selfID)", "hub.sub_type": "\(event.subType ?? "")"])
        default:
            break
        }
    }

    func markStale(_ selfID: Int64) {
        statuses.withLock { statuses in
            statuses[selfID, default: BotStatus(online: nil, lastHeartbeat: nil, stale: true)].stale = true
            Self.trim(&statuses)
        }
    }

    /// Bots remembered at most; past it the stale ones heard from longest ago are forgotten, so
    /// connections with ever new `X-Self-ID`s cannot grow the table without end.
    static let maxRememberedBots = 4096

    static func trim(_ statuses: inout [Int64: BotStatus]) {
        guard statuses.count > maxRememberedBots else { return }
        let forgettable = statuses.filter(\.value.stale).sorted { ($0.value.lastHeartbeat ?? .distantPast) < ($1.value.lastHeartbeat ?? .distantPast) }
        for (selfID, _) in forgettable.prefix(statuses.count - maxRememberedBots) { statuses[selfID] = nil }
    }

    // MARK: Actions

    /// Runs `action` for `selfID` over the best route: the live WebSocket, else the configured HTTP
    /// API, else (waiting up to `replyWait` for the bot to reconnect) the outbox when allowed.
    ///
    /// When the bot's connection ends before it acknowledged the action, an action that may be
    /// queued (a reply) takes the next route as if the bot had been away: at least once, like the
    /// inbox (the bot may have sent it before it left; a reply twice beats a reply lost).
    func perform(_ action: String, params: JSONValue, selfID: Int64, timeout: Duration, queueWhenOffline: Bool) async throws -> Outcome {
        if let connection = registry.actionConnection(for: selfID) {
            do {
                return .done(try await call(connection, action, params: params, timeout: timeout))
            } catch let error as OneBotActionError where error.kind == .connectionLost && queueWhenOffline {
                logger.notice("bot left before acknowledging the reply; sending it again when it is back", metadata: ["hub.bot": "\(selfID)"])
            }
        }
        if let base = settings.httpAPI[selfID] {
            return .done(try await httpAPI.call(baseURL: base, action: action, params: params, timeout: timeout))
        }
        if let connection = await registry.waitForActionConnection(selfID, timeout: settings.replyWait) {
            do {
                return .done(try await call(connection, action, params: params, timeout: timeout))
            } catch let error as OneBotActionError where error.kind == .connectionLost && queueWhenOffline {
                logger.notice("bot left again before acknowledging the reply; keeping it in the outbox", metadata: ["hub.bot": "\(selfID)"])
            }
        }
        guard queueWhenOffline, let outbox else { throw OneBotActionError(.noRoute, detail: "bot \(selfID) is not connected") }
        var payload = [UInt8]()
        JSONValue.object(["action": .string(action), "params": params]).write(into: &payload)
        try await outbox.enqueue(platform: .qq, bot: String(selfID), payload: String(decoding: payload, as: UTF8.self))
        metrics.replySent(door: "qq", outcome: "queued")
        logger.notice("bot offline; reply kept in the outbox", metadata: ["hub.bot": "\(selfID)"])
        // The bot may have come back while the entry was written, after its connection's flush
        // read the outbox: flush again, or the reply would wait for the next reconnect.
        if let connection = registry.actionConnection(for: selfID) { Task { await self.flushOutbox(for: connection) } }
        return .queued
    }

    private func call(_ connection: OneBotConnection, _ action: String, params: JSONValue, timeout: Duration) async throws
        -> OneBotActionResponse
    {
        let response = try await connection.call(action, params: params, timeout: timeout)
        guard response.succeeded else { throw OneBotActionError(.failed, response: response) }
        return response
    }

    /// Sends what the outbox holds for the bot on `connection`, oldest first. One flush per bot runs
    /// at a time (two would send the same entries); a flush asked for meanwhile runs after it.
    func flushOutbox(for connection: OneBotConnection) async {
        guard outbox != nil, connection.role.carriesActions else { return }
        let selfID = connection.selfID
        let leads = flushes.withLock { flushes in
            if flushes[selfID] != nil {
                flushes[selfID] = true
                return false
            }
            flushes[selfID] = false
            return true
        }
        guard leads else { return }
        repeat {
            await flushOnce(for: connection)
        } while flushes.withLock { flushes in
            if flushes[selfID] == true {
                flushes[selfID] = false
                return true
            }
            flushes[selfID] = nil
            return false
        }
    }

    private func flushOnce(for connection: OneBotConnection) async {
        guard let outbox else { return }
        let bot = String(connection.selfID)
        do {
            for entry in try await outbox.pending(platform: .qq, bot: bot) {
                guard let json = try? JSONValue(parsing: entry.payload), let action = json["action"]?.stringValue else {
                    try await outbox.remove(entry.id)
                    continue
                }
                do {
                    _ = try await call(connection, action, params: json["params"] ?? .object([:]), timeout: settings.mediaActionTimeout)
                    try await outbox.remove(entry.id)
                    metrics.replySent(door: "qq", outcome: "sent_from_outbox")
                } catch let error as OneBotActionError where error.kind == .connectionLost {
                    return
                } catch {
                    logger.warning("outbox entry failed", metadata: ["hub.bot": "\(bot)", "error": "\(error)"])
                    try await outbox.recordFailure(entry.id)
                }
            }
        } catch {
            logger.error("outbox unavailable", metadata: ["hub.bot": "\(bot)", "error": "\(error)"])
        }
    }
}
