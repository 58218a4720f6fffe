// SPDX-License-Identifier: Apache-2.0

/// How the web chat door behaves; filled from the hub's `web:` configuration.
public struct WebChatDoorSettings: Sendable {
    /// Token required on the chat WebSocket and REST endpoints; nil or empty: none.
    public var accessToken: String?
    /// Origins (`scheme://host[:port]`) whose pages may open the chat WebSocket, besides the hub's
    /// own origin; `*` allows any. Requests without an `Origin` (non-browser clients) are allowed.
    public var allowedOrigins: [String]
    /// Longest message text a client may send, in UTF-8 bytes.
    public var maxMessageBytes: Int
    /// Messages sent in the `history` frame when a client connects.
    public var historyMessages: Int
    /// Chat WebSocket connections held open at once; more are refused with 503.
    public var maxConnections: Int
    /// Frames waiting to be written to one client; a client that falls this far behind is closed.
    public var outboundQueue: Int
    /// The bot id web sessions are filed under (the `bot` of their ``Engine/SessionKey``).
    public var botID: String

    public init(
        accessToken: String? = nil, allowedOrigins: [String] = [], maxMessageBytes: Int = 16 << 10, historyMessages: Int = 200,
        maxConnections: Int = 20_000, outboundQueue: Int = 1024, botID: String = "web"
    ) {
        self.accessToken = accessToken
        self.allowedOrigins = allowedOrigins
        self.maxMessageBytes = maxMessageBytes
        self.historyMessages = historyMessages
        self.maxConnections = maxConnections
        self.outboundQueue = outboundQueue
        self.botID = botID
    }
}
