// SPDX-License-Identifier: Apache-2.0

extension HubConfiguration {
    /// One line for each door that anyone who can reach the port may use, when the hub listens
    /// beyond loopback: which door, and the key that closes it. Empty on loopback.
    var exposureWarnings: [String] {
        guard !server.isLoopback else { return [] }
        let place = "the hub listens on \(server.host):\(server.port)"
        var warnings = [String]()
        if onebot.accessToken == nil {
            warnings.append(
                "\(place) and the OneBot reverse WebSocket takes any bot: set onebot.access_token (HUB_ONEBOT_ACCESS_TOKEN)")
        }
        if onebot.secret == nil {
            warnings.append(
                "\(place) and the OneBot HTTP POST callback takes unsigned events: set onebot.secret (HUB_ONEBOT_SECRET)")
        }
        if web.enabled, web.accessToken == nil {
            warnings.append("\(place) and the web chat answers anyone: set web.access_token (HUB_WEB_ACCESS_TOKEN)")
        }
        if gateway.apiKeys.isEmpty {
            warnings.append(
                "\(place) and the OpenAI-compatible API (/v1/*) spends the providers' keys for anyone: set gateway.api_keys")
        }
        return warnings
    }
}
