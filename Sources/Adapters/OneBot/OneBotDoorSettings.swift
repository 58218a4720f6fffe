// SPDX-License-Identifier: Apache-2.0

/// How the OneBot door behaves; filled from the hub's `onebot:` configuration.
public struct OneBotDoorSettings: Sendable {
    /// Token required on reverse WebSocket handshakes and sent to HTTP APIs; nil or empty: none.
    public var accessToken: String?
    /// HMAC key for `X-Signature` on HTTP POST callbacks; nil or empty: signatures are ignored.
    public var secret: String?
    /// Forward HTTP API base URL per bot, used when no WebSocket carries actions for it.
    public var httpAPI: [Int64: String]
    /// Timeout of ordinary actions, and of actions that carry media.
    public var actionTimeout: Duration
    public var mediaActionTimeout: Duration
    /// Largest inbound WebSocket message and HTTP POST body.
    public var maxFrameBytes: Int
    public var maxBodyBytes: Int
    /// Longest text of one outgoing message, in Unicode scalars.
    public var maxMessageLength: Int
    /// How long a reply waits for a disconnected bot before it goes to the outbox.
    public var replyWait: Duration
    /// Extra silence tolerated past the heartbeat interval before a bot counts as gone
    /// (at least `3 × interval`, and at least `interval + heartbeatGrace`).
    public var heartbeatGrace: Duration
    /// Size of each connection's send queue.
    public var outboundQueue: Int
    /// How long a bot has to complete the close handshake the hub started before the connection is
    /// dropped without it.
    public var closeTimeout: Duration

    public init(
        accessToken: String? = nil, secret: String? = nil, httpAPI: [Int64: String] = [:], actionTimeout: Duration = .seconds(30),
        mediaActionTimeout: Duration = .seconds(120), maxFrameBytes: Int = 64 << 20, maxBodyBytes: Int = 64 << 20,
        maxMessageLength: Int = 3000, replyWait: Duration = .seconds(30), heartbeatGrace: Duration = .seconds(10),
        outboundQueue: Int = 4096, closeTimeout: Duration = .seconds(3)
    ) {
        self.closeTimeout = closeTimeout
        self.accessToken = accessToken
        self.secret = secret
        self.httpAPI = httpAPI
        self.actionTimeout = actionTimeout
        self.mediaActionTimeout = mediaActionTimeout
        self.maxFrameBytes = maxFrameBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxMessageLength = maxMessageLength
        self.replyWait = replyWait
        self.heartbeatGrace = heartbeatGrace
        self.outboundQueue = outboundQueue
    }
}
