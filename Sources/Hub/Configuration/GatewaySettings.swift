// SPDX-License-Identifier: Apache-2.0

/// `gateway`: the OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`) for other programs.
///
/// ```yaml
/// gateway: { api_keys: [ "${HUB_CLIENT_KEY}" ], rate_limit: "600/60s" }
/// ```
struct GatewaySettings: ConfigurationSection {
    /// Keys clients send as `Authorization: Bearer <key>`; empty: no key needed (bind to a private
    /// address then).
    var apiKeys: [Secret] = []
    /// Requests per API key (all keyless callers share one), `chat.rate_limit` syntax; "off" (the
    /// default, as programs calling an API expect) for none. `HUB_GATEWAY_RATE_LIMIT`.
    var rateLimit = ChatSettings.RateLimit.off

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKeys = "api_keys"
        case rateLimit = "rate_limit"
    }
}

extension GatewaySettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try container.decode(.apiKeys, default: [Secret]()).filter { !$0.value.isEmpty }
        rateLimit = try container.decode(.rateLimit, default: ChatSettings.RateLimit.off)
    }
}
