// SPDX-License-Identifier: Apache-2.0

/// `onebot`: the QQ door (OneBot 11 implementations such as go-cqhttp, NapCat, Lagrange, LLOneBot).
///
/// ```yaml
/// onebot:
///   access_token: ${HUB_ONEBOT_ACCESS_TOKEN}   # reverse WS / HTTP API token
///   secret: ${HUB_ONEBOT_SECRET}               # HTTP POST signature key
///   http_api: { "3847291056": http://napcat:3000 }
/// ```
struct OneBotSettings: ConfigurationSection {
    /// Token bots must present (reverse WebSocket `Authorization`, HTTP API calls). `HUB_ONEBOT_ACCESS_TOKEN`.
    var accessToken: Secret?
    /// HMAC-SHA1 key for `X-Signature` on HTTP POST callbacks. `HUB_ONEBOT_SECRET`.
    var secret: Secret?
    /// Forward HTTP API base URL per bot: self id (decimal) → `http(s)://…`. See ``httpAPIBySelfID``.
    var httpAPI: [String: String] = [:]
    /// Seconds to wait for an action's response. `HUB_ONEBOT_ACTION_TIMEOUT`.
    var actionTimeout = 30.0
    /// Seconds to wait for actions that carry media (voice, images). `HUB_ONEBOT_MEDIA_ACTION_TIMEOUT`.
    var mediaActionTimeout = 120.0
    /// Largest WebSocket frame accepted from a bot, in bytes. `HUB_ONEBOT_MAX_FRAME_BYTES`.
    var maxFrameBytes = 67_108_864
    /// Longest outgoing message, in Unicode scalars; longer replies are split. `HUB_ONEBOT_MAX_MESSAGE_LENGTH`.
    var maxMessageLength = 3000
    /// Seconds a reply waits for a disconnected bot to come back before it goes to the outbox. `HUB_ONEBOT_REPLY_WAIT`.
    var replyWait = 30.0
    /// Seconds of silence tolerated past a bot's heartbeat interval before its connection is closed
    /// (the limit is the larger of 3 × interval and interval + this). `HUB_ONEBOT_HEARTBEAT_GRACE`.
    var heartbeatGrace = 10.0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accessToken = "access_token"
        case secret
        case httpAPI = "http_api"
        case actionTimeout = "action_timeout"
        case mediaActionTimeout = "media_action_timeout"
        case maxFrameBytes = "max_frame_bytes"
        case maxMessageLength = "max_message_length"
        case replyWait = "reply_wait"
        case heartbeatGrace = "heartbeat_grace"
    }
}

extension OneBotSettings {
    /// ``httpAPI`` keyed by bot id (validation guarantees every key converts).
    var httpAPIBySelfID: [Int64: String] {
        Dictionary(httpAPI.compactMap { key, url in Int64(key).map { ($0, url) } }, uniquingKeysWith: { first, _ in first })
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        accessToken = try container.decodeIfPresent(Secret.self, forKey: .accessToken).nonEmpty
        secret = try container.decodeIfPresent(Secret.self, forKey: .secret).nonEmpty
        httpAPI = try container.decode(.httpAPI, default: defaults.httpAPI)
        actionTimeout = try container.decode(.actionTimeout, default: defaults.actionTimeout)
        mediaActionTimeout = try container.decode(.mediaActionTimeout, default: defaults.mediaActionTimeout)
        maxFrameBytes = try container.decode(.maxFrameBytes, default: defaults.maxFrameBytes)
        maxMessageLength = try container.decode(.maxMessageLength, default: defaults.maxMessageLength)
        replyWait = try container.decode(.replyWait, default: defaults.replyWait)
        heartbeatGrace = try container.decode(.heartbeatGrace, default: defaults.heartbeatGrace)
    }

    func validate(into validator: inout ConfigurationValidator) {
        for (selfID, url) in httpAPI.sorted(by: { $0.key < $1.key }) {
            let path = "onebot.http_api.\(selfID)"
            let isBotID = !selfID.isEmpty && selfID.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } && Int64(selfID) != nil
            validator.require(isBotID, path, "key must be a bot's self id (a decimal integer), found \(ConfigurationNode.quoted(selfID))")
            validator.httpURL(url, path)
        }
        validator.positive(actionTimeout, "onebot.action_timeout")
        validator.positive(mediaActionTimeout, "onebot.media_action_timeout")
        validator.positive(maxFrameBytes, "onebot.max_frame_bytes")
        validator.positive(maxMessageLength, "onebot.max_message_length")
        validator.nonNegative(replyWait, "onebot.reply_wait")
        validator.nonNegative(heartbeatGrace, "onebot.heartbeat_grace")
    }
}
