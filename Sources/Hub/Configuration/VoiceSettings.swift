// SPDX-License-Identifier: Apache-2.0

/// `voice`: spoken answers and voice messages on the chat doors, and the live voice door
/// (`/ws/voice`, alias `/xiaozhi/v1/`: xiaozhi devices and the chat page's microphone; the OTA check
/// at `/xiaozhi/ota/`).
///
/// ```yaml
/// voice:
///   reply: text_and_voice            # QQ sessions after /voice on
///   max_clip_seconds: 30
///   max_clips: 10
///   allowed_hosts: [ 192.168.1.20 ]  # where a OneBot implementation serves voice files on a LAN
///   access_token: ${HUB_VOICE_ACCESS_TOKEN}  # devices send "Authorization: Bearer <token>"
///   public_url: wss://hub.example.com/xiaozhi/v1/  # what the OTA answer tells devices; else derived
///   allowed_devices: [ "aa:bb:cc:dd:ee:ff" ]       # Device-Id allow-list; empty for any
///   max_sessions: 64
///   endpoint_silence_ms: 500         # auto mode: this much silence ends an utterance
///   sample_rate: 24000               # answer audio: 16000 or 24000 Hz
///   frame_duration_ms: 60            # answer audio frames
/// ```
struct VoiceSettings: ConfigurationSection {
    /// For a session that sent `/voice on`: `text_and_voice` (the text, then the clips) or `voice`
    /// (the clips alone). `HUB_VOICE_REPLY`.
    var reply = "text_and_voice"
    /// Longest clip, in seconds; longer answers are split at sentence boundaries.
    var maxClipSeconds: Double = 30
    /// Most clips for one answer.
    var maxClips = 10
    /// Hosts (names or addresses) a voice message's or an image service's result URL may point at
    /// although they are private or loopback: where the OneBot implementation or the image service
    /// serves its files on a LAN.
    var allowedHosts: [String] = []
    /// Token voice clients present (`Authorization: Bearer`, or `?token=` from a browser); none
    /// means the door is open. `HUB_VOICE_ACCESS_TOKEN`.
    var accessToken: Secret?
    /// The WebSocket URL the OTA answer gives devices; derived from the request when unset.
    var publicURL: String?
    /// Devices (`Device-Id`) allowed on the voice door and the OTA check; empty allows any.
    var allowedDevices: [String] = []
    /// Voice connections held at once.
    var maxSessions = 64
    /// Silence, in milliseconds, that ends an utterance in `auto` and `realtime` listening.
    var endpointSilenceMs = 500
    /// Longest utterance, in seconds; the recognizer is given what was heard so far.
    var maxUtteranceSeconds: Double = 30
    /// Sample rate of the answer audio, 16000 or 24000 Hz (the hub's hello announces it).
    var sampleRate = 24000
    /// Duration of each answer audio frame, in milliseconds.
    var frameDurationMs = 60
    /// A connection with nothing heard for this long, in seconds, is closed.
    var idleTimeout: Double = 120
    /// A client that sends no valid hello within this many seconds is closed.
    var helloTimeout: Double = 10
    /// Binary protocol version the OTA answer assigns devices (1 bare Opus, 2 or 3 with headers).
    var protocolVersion = 1

    static let replies = ["text_and_voice", "voice"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reply
        case maxClipSeconds = "max_clip_seconds"
        case maxClips = "max_clips"
        case allowedHosts = "allowed_hosts"
        case accessToken = "access_token"
        case publicURL = "public_url"
        case allowedDevices = "allowed_devices"
        case maxSessions = "max_sessions"
        case endpointSilenceMs = "endpoint_silence_ms"
        case maxUtteranceSeconds = "max_utterance_seconds"
        case sampleRate = "sample_rate"
        case frameDurationMs = "frame_duration_ms"
        case idleTimeout = "idle_timeout"
        case helloTimeout = "hello_timeout"
        case protocolVersion = "protocol_version"
    }
}

extension VoiceSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        reply = try container.decode(.reply, default: defaults.reply)
        maxClipSeconds = try container.decode(.maxClipSeconds, default: defaults.maxClipSeconds)
        maxClips = try container.decode(.maxClips, default: defaults.maxClips)
        allowedHosts = try container.decode(.allowedHosts, default: [])
        accessToken = try container.decodeIfPresent(Secret.self, forKey: .accessToken).nonEmpty
        publicURL = try container.decodeIfPresent(String.self, forKey: .publicURL).flatMap { $0.isEmpty ? nil : $0 }
        allowedDevices = try container.decode(.allowedDevices, default: [])
        maxSessions = try container.decode(.maxSessions, default: defaults.maxSessions)
        endpointSilenceMs = try container.decode(.endpointSilenceMs, default: defaults.endpointSilenceMs)
        maxUtteranceSeconds = try container.decode(.maxUtteranceSeconds, default: defaults.maxUtteranceSeconds)
        sampleRate = try container.decode(.sampleRate, default: defaults.sampleRate)
        frameDurationMs = try container.decode(.frameDurationMs, default: defaults.frameDurationMs)
        idleTimeout = try container.decode(.idleTimeout, default: defaults.idleTimeout)
        helloTimeout = try container.decode(.helloTimeout, default: defaults.helloTimeout)
        protocolVersion = try container.decode(.protocolVersion, default: defaults.protocolVersion)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.require(Self.replies.contains(reply), "voice.reply", "must be one of \(Self.replies.joined(separator: ", ")), not `\(reply)`")
        validator.positive(maxClipSeconds, "voice.max_clip_seconds")
        validator.require(maxClipSeconds <= 600, "voice.max_clip_seconds", "must be at most 600")
        validator.positive(maxClips, "voice.max_clips")
        if let publicURL {
            let lowered = publicURL.lowercased()
            validator.require(
                (lowered.hasPrefix("ws://") || lowered.hasPrefix("wss://")) && lowered.count > 6, "voice.public_url",
                "expected a WebSocket URL such as \"wss://hub.example.com/xiaozhi/v1/\", found \(ConfigurationNode.quoted(publicURL))")
        }
        validator.positive(maxSessions, "voice.max_sessions")
        validator.require((100...5000).contains(endpointSilenceMs), "voice.endpoint_silence_ms", "must be between 100 and 5000")
        validator.require(maxUtteranceSeconds > 0 && maxUtteranceSeconds <= 120, "voice.max_utterance_seconds", "must be more than 0 and at most 120")
        validator.require([16000, 24000].contains(sampleRate), "voice.sample_rate", "must be 16000 or 24000")
        validator.require([20, 40, 60].contains(frameDurationMs), "voice.frame_duration_ms", "must be 20, 40 or 60")
        validator.positive(idleTimeout, "voice.idle_timeout")
        validator.positive(helloTimeout, "voice.hello_timeout")
        validator.require((1...3).contains(protocolVersion), "voice.protocol_version", "must be 1, 2 or 3")
    }
}
