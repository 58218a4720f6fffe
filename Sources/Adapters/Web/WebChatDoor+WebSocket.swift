// SPDX-License-Identifier: Apache-2.0
import Engine
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

extension WebChatDoor {
    /// The verdict on a WebSocket upgrade to `path` (query included): the client id to serve, a
    /// refusal, or nil when no chat WebSocket lives there. `host` is the request's Host.
    public func webSocketHandshake(path: String, host: String?, headers: HTTPFields) -> Result<String, WebChatHandshake.Rejected>? {
        guard let named = WebChatHandshake.clientID(inPath: path) else { return nil }
        guard case .success(let clientID) = named else { return named }
        let query = path.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        if let refusal = handshake.checkToken(authorization: headers[.authorization], query: query)
            ?? handshake.checkOrigin(headers[.origin], host: host)
        {
            return .failure(refusal)
        }
        guard connections.withLock({ $0 }) < settings.maxConnections else {
            return .failure(.init(status: .serviceUnavailable, message: "too many chat connections; try again later"))
        }
        return .success(clientID)
    }

    /// Counts a connection opening (+1) or closing (-1) and reports the count; under the lock, so
    /// two connections changing it at once cannot leave the gauge at a stale value.
    func countConnection(_ change: Int) {
        connections.withLock { count in
            count += change
            metrics.connectedClients(door: "web", count: count)
        }
    }

    /// Largest inbound WebSocket message: a message of `maxMessageBytes` with every character
    /// escaped, plus room for the rest of the frame. Larger messages close the connection (1009).
    /// (The server's frame decoder, shared by every door, stops anything beyond
    /// `onebot.max_frame_bytes` before it is assembled.)
    var maxFrameBytes: Int { settings.maxMessageBytes * 6 + 1024 }

    /// Runs one chat connection until it ends: sends the history, then reads messages and writes
    /// answers. Replies still being written when the client leaves are finished and remembered.
    public func serve(clientID: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        var logger = self.logger
        logger[metadataKey: "hub.client"] = "\(clientID)"
        let queue = BoundedQueue<WebChatOutbound>(capacity: settings.outboundQueue)
        let sink = WebChatReplySink(queue: queue)
        countConnection(+1)
        live.withLock { $0[clientID, default: [:]][ObjectIdentifier(sink)] = sink }
        logger.debug("web client connected")
        defer {
            live.withLock { live in
                live[clientID]?[ObjectIdentifier(sink)] = nil
                if live[clientID]?.isEmpty == true { live[clientID] = nil }
            }
            queue.close()
            countConnection(-1)
            logger.debug("web client disconnected")
        }
        do {
            sink.send(try await history(clientID: clientID))
        } catch {
            logger.error("history could not be read", metadata: ["error": "\(error)"])
            sink.send(.error(id: nil, message: "The conversation history could not be loaded."))
        }
        let connectionLogger = logger
        try await withThrowingTaskGroup(of: ConnectionSide.self) { group in
            group.addTask {
                try await self.readMessages(inbound, clientID: clientID, sink: sink, logger: connectionLogger)
                return .reader
            }
            group.addTask {
                while let item = await queue.next() {
                    switch item {
                    case .frame(let frame):
                        try await outbound.write(.text(frame.json))
                    case .close(let code, let reason):
                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                        return .writer
                    }
                }
                if sink.hasOverflowed {
                    connectionLogger.warning("web client too slow to read its answers; closing")
                    try await outbound.close(.policyViolation, reason: "client too slow")
                }
                return .writer
            }
            // The reader ends when the client stops sending or a limit asks to close: what is
            // already queued (that close request included) still goes out, then the writer ends.
            // Cancelling the writer here instead could drop the close frame and leave the client
            // waiting for it. The writer ending (a close written, or a client too slow) ends both.
            if try await group.next() == .reader {
                queue.close()
                // A client that has gone makes these last writes fail; there is no one left to tell.
                _ = try? await group.next()
            }
            group.cancelAll()
        }
    }

    /// Which half of a chat connection finished first.
    private enum ConnectionSide {
        case reader, writer
    }

    private func readMessages(_ inbound: WebSocketInboundStream, clientID: String, sink: WebChatReplySink, logger: Logger) async throws {
        for try await message in inbound.messages(maxSize: maxFrameBytes) {
            if case .text(let text) = message, text.utf8.count > maxFrameBytes {
                metrics.malformedInput(door: "web", reason: "oversize_frame")
                logger.warning("web frame too large; closing", metadata: ["hub.bytes": "\(text.utf8.count)"])
                sink.close(code: 1009, reason: "message too large")
                return
            }
            guard case .text(let text) = message else {
                metrics.malformedInput(door: "web", reason: "binary_frame")
                sink.send(.error(id: nil, message: "binary frames are not supported; send JSON text frames"))
                continue
            }
            let inbound: WebChatInbound
            do {
                inbound = try WebChatInbound(frame: text, maxBytes: settings.maxMessageBytes, makeID: makeMessageID)
            } catch {
                metrics.malformedInput(door: "web", reason: "invalid_frame")
                logger.info("web frame refused", metadata: ["hub.reason": "\(error.message)"])
                sink.send(.error(id: error.id, message: error.message))
                continue
            }
            let admission = submit(inbound, clientID: clientID, sink: sink)
            if let refusal = Self.refusal(admission) {
                sink.send(.error(id: inbound.id, message: refusal))
            }
        }
    }
}
