// SPDX-License-Identifier: Apache-2.0

/// `redis`: the optional shared cache. Without a URL the hub uses an in-process cache.
///
/// ```yaml
/// redis: { url: redis://127.0.0.1:6379/0 }
/// ```
struct RedisSettings: ConfigurationSection {
    /// `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS) or `unix:///path/to/socket`;
    /// `nil` for the in-process cache. `HUB_REDIS_URL`. May hold a password: log ``maskedURL``, not this.
    var url: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
    }

    /// ``url`` with any password replaced by `****`, for logs.
    var maskedURL: String? {
        url.map(URLCredentials.masked)
    }
}

extension RedisSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decodeIfPresent(String.self, forKey: .url)
    }

    func validate(into validator: inout ConfigurationValidator) {
        guard let url else { return }
        let valid = ConfigurationValidator.isURL(url, schemes: ["redis", "rediss"]) || url.lowercased().hasPrefix("unix://")
        validator.require(valid, "redis.url", "expected a redis://, rediss:// or unix:// URL, found \(ConfigurationNode.quoted(URLCredentials.masked(url)))")
    }
}

/// Masks the credentials in a URL's user-info part: `redis://:pw@host` → `redis://:****@host`.
enum URLCredentials {
    static func masked(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else { return url }
        let userInfo = url[authorityStart..<at]
        let maskedUserInfo: String
        if let colon = userInfo.firstIndex(of: ":") {
            maskedUserInfo = String(userInfo[..<colon]) + ":****"
        } else {
            maskedUserInfo = "****"
        }
        return String(url[..<authorityStart]) + maskedUserInfo + String(url[at...])
    }
}
