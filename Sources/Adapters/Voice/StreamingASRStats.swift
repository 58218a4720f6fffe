// SPDX-License-Identifier: Apache-2.0

/// What the streaming recognition door has done since the hub started
/// (`GET /api/v1/streaming-stats`).
///
/// ```json
/// {"sessions":12,"active":1,"audio_seconds":804.3,"finals":97,"partials":611,"errors":2}
/// ```
public struct StreamingASRStats: Codable, Sendable, Hashable {
    /// Streams accepted.
    public var sessions = 0
    /// Streams open now.
    public var active = 0
    /// Seconds of audio received.
    public var audioSeconds = 0.0
    /// `final` messages sent.
    public var finals = 0
    /// `partial` messages sent.
    public var partials = 0
    /// `error` messages sent (bad frames, failed recognitions) and streams closed for a limit.
    public var errors = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case sessions, active, finals, partials, errors
        case audioSeconds = "audio_seconds"
    }
}
