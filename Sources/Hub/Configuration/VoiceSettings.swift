// SPDX-License-Identifier: Apache-2.0

/// `voice`: spoken answers and voice messages on the chat doors.
///
/// ```yaml
/// voice: { reply: text_and_voice, max_clip_seconds: 30, max_clips: 10, allowed_hosts: [ 192.168.1.20 ] }
/// ```
struct VoiceSettings: ConfigurationSection {
    /// For a session that sent `/voice on`: `text_and_voice` (the text, then the clips) or `voice`
    /// (the clips alone). `HUB_VOICE_REPLY`.
    var reply = "text_and_voice"
    /// Longest clip, in seconds; longer answers are split at sentence boundaries.
    var maxClipSeconds: Double = 30
    /// Most clips for one answer.
    var maxClips = 10
    /// Hosts (names or addresses) a voice message's URL may point at although they are private or
    /// loopback: where the OneBot implementation serves its files on a LAN.
    var allowedHosts: [String] = []

    static let replies = ["text_and_voice", "voice"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reply
        case maxClipSeconds = "max_clip_seconds"
        case maxClips = "max_clips"
        case allowedHosts = "allowed_hosts"
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
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.require(Self.replies.contains(reply), "voice.reply", "must be one of \(Self.replies.joined(separator: ", ")), not `\(reply)`")
        validator.positive(maxClipSeconds, "voice.max_clip_seconds")
        validator.require(maxClipSeconds <= 600, "voice.max_clip_seconds", "must be at most 600")
        validator.positive(maxClips, "voice.max_clips")
    }
}
