// SPDX-License-Identifier: Apache-2.0

/// `gateway`: the OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`) for other programs.
///
/// ```yaml
/// gateway: { api_keys: [ "${HUB_CLIENT_KEY}" ] }
/// ```
struct GatewaySettings: ConfigurationSection {
    /// Keys clients send as `Authorization: Bearer <key>`; empty: no key needed (bind to a private
    /// address then).
    var apiKeys: [Secret] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKeys = "api_keys"
    }
}

extension GatewaySettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try container.decode(.apiKeys, default: [Secret]()).filter { !$0.value.isEmpty }
    }
}
