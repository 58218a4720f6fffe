// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Logging
import WSCore

/// What a WebSocket handler of the hub knows about its connection: the upgrade request.
struct HubWebSocketContext: WebSocketContext {
    let logger: Logger
    /// The HTTP request that was upgraded.
    let request: HTTPRequest
    /// Closes the socket at once, without the close handshake: for a peer that stopped reading,
    /// whose close frame could never be written.
    let abort: @Sendable () -> Void
}

/// The verdict on a WebSocket upgrade request.
enum WebSocketUpgradeDecision: Sendable {
    /// Upgrade, and run `handler` on the connection.
    case accept(WebSocketDataHandler<HubWebSocketContext>)
    /// Answer with `status` and a JSON error body instead of upgrading.
    case refuse(status: HTTPResponse.Status, message: String)
}
