// SPDX-License-Identifier: Apache-2.0

/// `web`: the web chat door (the page at `/`, `/ws/chat/{client_id}`, `POST /api/v1/chat`).
///
/// ```yaml
/// web:
///   enabled: true
///   access_token: ${HUB_WEB_ACCESS_TOKEN}       # optional; the page asks for it once
///   allowed_origins: ["https://chat.example.com"] # pages elsewhere that may connect; "*" for any
///   max_message_bytes: 16384
///   rate_limit: "20/60s"                          # per client; "off" for none
/// ```
struct WebSettings: ConfigurationSection {
    /// Whether the page and its endpoints are served. `HUB_WEB_ENABLED`.
    var enabled = true
    /// Token the page and REST clients must present. `HUB_WEB_ACCESS_TOKEN`.
    var accessToken: Secret?
    /// Origins besides the hub's own whose pages may open the chat WebSocket; `*` allows any.
    var allowedOrigins: [String] = []
    /// Longest message a client may send, in UTF-8 bytes. `HUB_WEB_MAX_MESSAGE_BYTES`.
    var maxMessageBytes = 16384
    /// Messages per client (`chat.rate_limit` syntax). `HUB_WEB_RATE_LIMIT`.
    var rateLimit = ChatSettings.RateLimit(count: 20, seconds: 60)
    /// Messages shown when a page (re)connects. `HUB_WEB_HISTORY_MESSAGES`.
    var historyMessages = 200
    /// Chat WebSocket connections held at once. `HUB_WEB_MAX_CONNECTIONS`.
    var maxConnections = 20000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled
        case accessToken = "access_token"
        case allowedOrigins = "allowed_origins"
        case maxMessageBytes = "max_message_bytes"
        case rateLimit = "rate_limit"
        case historyMessages = "history_messages"
        case maxConnections = "max_connections"
    }
}

extension WebSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        enabled = try container.decode(.enabled, default: defaults.enabled)
        accessToken = try container.decodeIfPresent(Secret.self, forKey: .accessToken).nonEmpty
        allowedOrigins = try container.decode(.allowedOrigins, default: defaults.allowedOrigins)
        maxMessageBytes = try container.decode(.maxMessageBytes, default: defaults.maxMessageBytes)
        rateLimit = try container.decode(.rateLimit, default: defaults.rateLimit)
        historyMessages = try container.decode(.historyMessages, default: defaults.historyMessages)
        maxConnections = try container.decode(.maxConnections, default: defaults.maxConnections)
    }

    func validate(into validator: inout ConfigurationValidator) {
        for (index, origin) in allowedOrigins.enumerated() where origin != "*" {
            let path = "web.allowed_origins[\(index)]"
            let lowered = origin.lowercased()
            let schemeOK = lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
            let rest = lowered.drop { $0 != "/" }.dropFirst(2)
            validator.require(
                schemeOK && !rest.isEmpty && !rest.dropLast(rest.hasSuffix("/") ? 1 : 0).contains("/"), path,
                "expected an origin such as \"https://chat.example.com\" (scheme, host and port only) or \"*\", found \(ConfigurationNode.quoted(origin))")
        }
        validator.positive(maxMessageBytes, "web.max_message_bytes")
        validator.positive(historyMessages, "web.history_messages")
        validator.positive(maxConnections, "web.max_connections")
    }
}
