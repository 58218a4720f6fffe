// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

extension OneBotDoor {
    /// The reverse-WebSocket paths and the role each implies (nil: from `X-Client-Role`).
    public static let webSocketPaths: [(path: String, role: OneBotRole?)] = [
        ("/onebot/v11/ws", nil), ("/onebot/v11/ws/api", .api), ("/onebot/v11/ws/event", .event),
        ("/onebot/v11/", nil), ("/api/v1/qq/websocket", nil),
    ]

    /// The handshake verdict for a WebSocket upgrade request to `path` (query included or not), or
    /// nil when no OneBot endpoint lives there. Everything is decided before the upgrade.
    public func webSocketHandshake(path: String, headers: HTTPFields) -> Result<OneBotHandshake.Accepted, OneBotHandshake.Rejected>? {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let route = Self.trimmingTrailingSlash(String(parts.first ?? ""))
        guard let entry = Self.webSocketPaths.first(where: { Self.trimmingTrailingSlash($0.path) == route }) else { return nil }
        return handshake.evaluate(headers: headers, query: parts.count > 1 ? String(parts[1]) : nil, pathRole: entry.role)
    }

    private static func trimmingTrailingSlash(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    private enum LoopEnd: Sendable {
        case reader, writer, watchdog, outbox, expiry
        /// A close was asked for and the peer did not complete it in time.
        case closeDeadline
        /// The wait for a close request ended without one (the connection is ending anyway).
        case closeWatchEnded
    }

    /// Runs one accepted connection until it ends: reads frames, writes queued frames, watches
    /// heartbeats, flushes the outbox. `abort` closes the socket without the close handshake; it is
    /// called when a close the hub asked for was not completed in time (a peer that stopped
    /// reading: no close frame could reach it).
    public func serve(
        _ accepted: OneBotHandshake.Accepted, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        abort: @escaping @Sendable () -> Void = {}
    ) async throws {
        let connection = OneBotConnection(
            selfID: accepted.selfID, role: accepted.role, generation: registry.nextGeneration(), outboundCapacity: settings.outboundQueue)
        connection.lastFrameAt.store(Self.uptimeNanoseconds(), ordering: .relaxed)
        var logger = self.logger
        logger[metadataKey: "hub.bot"] = "\(accepted.selfID)"
        logger[metadataKey: "hub.role"] = "\(accepted.role.rawValue)"
        logger[metadataKey: "hub.connection"] = "\(connection.generation)"
        let metrics = self.metrics
        for replaced in registry.register(connection, report: { metrics.connectedBots(door: "qq", count: $0) }) {
            logger.info("connection replaced by a newer one", metadata: ["hub.replaced": "\(replaced.generation)"])
            replaced.requestClose(code: 1000, reason: "replaced by a new connection")
        }
        logger.info("bot connected")
        defer {
            registry.unregister(connection, report: { metrics.connectedBots(door: "qq", count: $0) })
            connection.markClosed()
            logger.info("bot disconnected")
        }
        let connectionLogger = logger
        try await withThrowingTaskGroup(of: LoopEnd.self) { group in
            group.addTask {
                try await self.readFrames(inbound, connection: connection, logger: connectionLogger)
                return .reader
            }
            group.addTask {
                try await Self.writeFrames(outbound, connection: connection)
                return .writer
            }
            group.addTask {
                try await self.watchHeartbeats(connection, logger: connectionLogger)
                return .watchdog
            }
            if connection.role.carriesActions {
                group.addTask {
                    await self.flushOutbox(for: connection)
                    return .outbox
                }
                group.addTask {
                    await connection.expireActions()
                    return .expiry
                }
            }
            group.addTask {
                // Once the hub asks to close, the peer has `closeTimeout` to complete the close
                // handshake; a stalled peer (its socket full) is cut off without it.
                guard await connection.closeRequested() != nil else { return .closeWatchEnded }
                try await Task.sleep(for: self.settings.closeTimeout)
                return .closeDeadline
            }
            while let end = try await group.next() {
                if end == .outbox || end == .watchdog || end == .expiry || end == .closeWatchEnded { continue }
                if end == .closeDeadline {
                    logger.warning("bot did not complete the close in time; connection dropped")
                    abort()
                    break
                }
                if end == .writer {
                    // The writer ends after sending a close frame; let the reader see the close reply.
                    continue
                }
                break
            }
            group.cancelAll()
        }
    }

    private func readFrames(_ inbound: WebSocketInboundStream, connection: OneBotConnection, logger: Logger) async throws {
        for try await message in inbound.messages(maxSize: settings.maxFrameBytes) {
            connection.lastFrameAt.store(Self.uptimeNanoseconds(), ordering: .relaxed)
            let value: JSONValue
            do {
                switch message {
                case .text(let text): value = try JSONValue(parsing: text)
                case .binary(let buffer): value = try JSONValue(parsing: buffer.readableBytesView)
                }
            } catch {
                metrics.malformedInput(door: "onebot", reason: "invalid_json")
                logger.warning("malformed frame ignored", metadata: ["error": "\(error)"])
                continue
            }
            if value["post_type"] != nil {
                do {
                    let event = try OneBotEvent(json: value)
                    handle(event, selfID: connection.selfID, connection: connection, transport: "ws")
                } catch {
                    metrics.malformedInput(door: "onebot", reason: "invalid_event")
                    logger.warning("malformed event ignored", metadata: ["error": "\(error)"])
                }
            } else if let response = OneBotActionResponse(json: value) {
                if !connection.resolve(response) {
                    logger.debug("response to an unknown or expired action dropped", metadata: ["hub.echo": "\(response.echo ?? "")"])
                }
            } else {
                metrics.malformedInput(door: "onebot", reason: "unknown_frame")
                logger.warning("frame that is neither event nor action response ignored")
            }
        }
    }

    /// Writes queued frames until the queue closes; a close request goes out ahead of whatever is
    /// still queued.
    private static func writeFrames(_ outbound: WebSocketOutboundWriter, connection: OneBotConnection) async throws {
        while connection.closeRequest == nil, let text = await connection.outbound.next() {
            guard connection.closeRequest == nil else { break }
            try await outbound.write(.text(text))
        }
        if let request = connection.closeRequest {
            try await outbound.close(WebSocketErrorCode(codeNumber: Int(request.code)), reason: request.reason)
        }
    }

    /// Closes a connection that stays silent for `max(3 × interval, interval + grace)` once
    /// heartbeats have been seen on it, and marks the bot stale.
    private func watchHeartbeats(_ connection: OneBotConnection, logger: Logger) async throws {
        let grace = settings.heartbeatGrace.nanoseconds
        while true {
            let interval = connection.heartbeatInterval.load(ordering: .relaxed) * 1_000_000
            let check: Duration = interval > 0 ? .nanoseconds(min(max(interval / 4, 50_000_000), 1_000_000_000)) : .seconds(1)
            try await Task.sleep(for: check)
            guard interval > 0 else { continue }
            let silence = Self.uptimeNanoseconds() - connection.lastFrameAt.load(ordering: .relaxed)
            if silence > max(3 * interval, interval + grace) {
                logger.warning("no frame from bot within the heartbeat window; closing", metadata: ["hub.silence_ms": "\(silence / 1_000_000)"])
                markStale(connection.selfID)
                connection.requestClose(code: 1001, reason: "heartbeat timeout")
                return
            }
        }
    }

    private static let startInstant = ContinuousClock.now

    static func uptimeNanoseconds() -> Int64 {
        (ContinuousClock.now - startInstant).nanoseconds
    }
}
