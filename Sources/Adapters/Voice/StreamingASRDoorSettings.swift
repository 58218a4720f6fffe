// SPDX-License-Identifier: Apache-2.0
import Engine

/// How the streaming recognition door (`/api/v1/stream`) behaves; filled from the hub's `voice:`
/// configuration (`access_token`, `endpoint_silence_ms`, `max_utterance_seconds`, `max_sessions`,
/// `idle_timeout`).
public struct StreamingASRDoorSettings: Sendable {
    /// Token clients present (`Authorization: Bearer`, or `?token=` from a browser); nil: open.
    public var accessToken: String?
    /// Streams open at once; more are refused before the upgrade (503).
    public var maxSessions: Int
    /// How utterances are found (silence, maximum length, …).
    public var endpointer: UtteranceEndpointer.Settings
    /// A stream that sends nothing for this long is closed.
    public var idleTimeout: Duration
    /// Largest binary frame, in bytes (64 KiB: 2 s of audio); larger closes the stream (1009).
    public var maxFrameBytes: Int
    /// How far ahead of real time a client may send audio before the stream is closed (1008).
    public var maxLead: Duration
    /// Least time between two `partial` messages.
    public var partialInterval: Duration

    public init(
        accessToken: String? = nil, maxSessions: Int = 64, endpointer: UtteranceEndpointer.Settings = .init(), idleTimeout: Duration = .seconds(120),
        maxFrameBytes: Int = 64 << 10, maxLead: Duration = .seconds(5), partialInterval: Duration = .milliseconds(200)
    ) {
        self.accessToken = accessToken.flatMap { $0.isEmpty ? nil : $0 }
        self.maxSessions = max(1, maxSessions)
        self.endpointer = endpointer
        self.idleTimeout = idleTimeout
        self.maxFrameBytes = max(2, maxFrameBytes)
        self.maxLead = maxLead
        self.partialInterval = partialInterval
    }
}
