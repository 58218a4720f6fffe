// SPDX-License-Identifier: Apache-2.0

/// Whether streaming recognition can work (`GET /api/v1/streaming-health`): the voice activity
/// detector, and the recognizers in the router's order.
///
/// ```json
/// {"status":"ok","vad":"webrtc","recognizers":[{"name":"sphinx","live":true,"breaker":"closed"}]}
/// ```
public struct StreamingASRHealth: Codable, Sendable, Hashable {
    /// One recognizer the streams may use.
    public struct Recognizer: Codable, Sendable, Hashable {
        public var name: String
        /// Recognizes utterances while they are spoken (else whole at their end).
        public var live: Bool
        /// Its circuit breaker: `closed`, `open` or `half_open`.
        public var breaker: String
    }

    /// `ok`; `unavailable` when no voice activity detector can be made or no recognizer is configured.
    public var status: String
    /// The voice activity detector: `webrtc`.
    public var vad: String
    public var recognizers: [Recognizer]
}
