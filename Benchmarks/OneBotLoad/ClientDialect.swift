// SPDX-License-Identifier: Apache-2.0
import NIOHTTP1

/// What a ``SimulatedClient`` says on its WebSocket: the part that differs between a OneBot
/// implementation (``OneBotDialect``) and a web chat page (``WebChatDialect``).
///
/// A dialect lives on its client's event loop, so ``read(_:)`` may keep state.
protocol ClientDialect: Sendable {
    /// How failures name the connection, e.g. `bot 3847290000`.
    var name: String { get }
    /// How many users the connection carries.
    var localUserCount: Int { get }
    /// Whether the connection is ready only once the server's first message has arrived (web
    /// chat's `history`), rather than right after the upgrade.
    var awaitsGreeting: Bool { get }

    /// The request path for the upgrade, given the URL's path.
    func path(base: String) -> String
    /// Headers of the upgrade request besides `Host` and `User-Agent`.
    func handshakeHeaders(token: String?) -> HTTPHeaders
    /// The frame sent right after the upgrade, if any.
    func openingFrame() -> String?
    /// A heartbeat announcing the next in `intervalMilliseconds`, if the protocol has them.
    func heartbeatFrame(intervalMilliseconds: Int) -> String?
    /// Event `sequence` of local user `user`.
    func eventFrame(user: Int, sequence: Int) -> String
    /// Reads one text message from the server.
    mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> ServerMessage
}

/// What a text message from the server means to the load generator.
struct ServerMessage {
    enum Meaning {
        /// Nothing to count.
        case ignored
        /// The server's first message; the connection is ready.
        case greeting
        /// Something that is no answer to an event (a OneBot `get_login_info`, …).
        case other
        /// A fault that names no event; before the greeting it fails the connection.
        case fault(String)
        /// An answer with no event to match (counted as unmatched).
        case unmatched
        /// A piece of the streamed answer to `sequence`.
        case piece(user: Int, sequence: Int)
        /// The answer to `sequence`, or with `nil` to the user's oldest event.
        case reply(user: Int, sequence: Int?)
        /// The event was refused for `reason`.
        case refusal(user: Int, sequence: Int?, reason: String)
    }

    /// A frame to send back at once (a OneBot action's response).
    var response: String?
    var meaning: Meaning

    init(response: String? = nil, _ meaning: Meaning) {
        self.response = response
        self.meaning = meaning
    }
}
