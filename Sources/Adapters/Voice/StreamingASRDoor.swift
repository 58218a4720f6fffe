// SPDX-License-Identifier: Apache-2.0
import Engine
import HTTPTypes
import Logging
import Synchronization

/// Streaming speech recognition over a WebSocket (`/api/v1/stream`): the client sends 16 kHz mono
/// 16-bit little-endian PCM in binary frames as it records; the door finds the utterances
/// (``UtteranceEndpointer``), recognizes each while it is spoken (``SpeechRecognitionStream``)
/// and answers with JSON text frames (``StreamingASRMessage``): `partial` while an utterance is
/// spoken (when its text changed, at most every ``StreamingASRDoorSettings/partialInterval``),
/// `final` at its end, `error` for what it cannot use. A text frame `{"type":"end"}` ends the
/// current utterance at once.
///
/// The upgrade is refused before it happens: 401 without the right token (when one is set), 503
/// with ``StreamingASRDoorSettings/maxSessions`` streams open. A stream closes after
/// ``StreamingASRDoorSettings/idleTimeout`` without frames, with 1008 when the client sends audio
/// faster than real time by more than ``StreamingASRDoorSettings/maxLead``, with 1009 for a frame
/// beyond ``StreamingASRDoorSettings/maxFrameBytes``.
///
/// ```swift
/// let door = StreamingASRDoor(settings: .init(accessToken: "t"), speech: speech, metrics: metrics, logger: logger)
/// door.addRoutes(to: router)                       // GET /api/v1/streaming-health, /api/v1/streaming-stats
/// door.webSocketHandshake(path:headers:)           // for the server's upgrade decision
/// ```
public final class StreamingASRDoor: Sendable {
    /// The WebSocket's path.
    public static let path = "/api/v1/stream"

    /// Why an upgrade was refused: the HTTP status and a message for the JSON body.
    public struct Rejected: Error, Sendable, Hashable {
        public let status: HTTPResponse.Status
        public let message: String
    }

    /// An accepted upgrade: what the client asked for.
    public struct Accepted: Sendable, Hashable {
        /// The `language` query parameter: a hint for the recognizer.
        public var language: String?
    }

    public let settings: StreamingASRDoorSettings
    let speech: SpeechEngine
    let metrics: HubMetrics
    let logger: Logger
    let counters = Mutex(StreamingASRStats())

    public init(settings: StreamingASRDoorSettings, speech: SpeechEngine, metrics: HubMetrics = .disabled, logger: Logger) {
        self.settings = settings
        self.speech = speech
        self.metrics = metrics
        self.logger = logger
    }

    /// What the door has done since it was made.
    public var stats: StreamingASRStats { counters.withLock { $0 } }

    /// The verdict on a WebSocket upgrade to `path` (query included): accepted, refused, or nil
    /// when the path is not this door's.
    public func webSocketHandshake(path: String, headers: HTTPFields) -> Result<Accepted, Rejected>? {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var route = String(parts.first ?? "")
        if route.hasSuffix("/") { route.removeLast() }
        guard route == Self.path else { return nil }
        let query = parts.count > 1 ? String(parts[1]) : nil
        // Browsers cannot set headers on a WebSocket: `?token=` (or `?access_token=`) stands in.
        let authorization = headers[.authorization] ?? AccessCredentials.queryValue("token", in: query).map { "Bearer \($0)" }
        switch AccessCredentials.check(authorization: authorization, query: query, expected: settings.accessToken) {
        case .ok: break
        case .missing: return .failure(Rejected(status: .unauthorized, message: "access token required (Authorization: Bearer … or ?token=)"))
        case .wrong: return .failure(Rejected(status: .unauthorized, message: "access token does not match"))
        }
        guard counters.withLock({ $0.active }) < settings.maxSessions else {
            return .failure(Rejected(status: .serviceUnavailable, message: "too many recognition streams; try again later"))
        }
        let language = AccessCredentials.queryValue("language", in: query).flatMap { $0.isEmpty ? nil : $0 }
        return .success(Accepted(language: language))
    }

    /// Changes the counters under their lock (and the sessions gauge with them).
    func updateStats(_ change: (inout StreamingASRStats) -> Void) {
        counters.withLock { stats in
            let active = stats.active
            change(&stats)
            if stats.active != active { metrics.voiceStreamSessions(stats.active) }
        }
    }
}
