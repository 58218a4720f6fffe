// SPDX-License-Identifier: Apache-2.0

/// `admin`: the bearer key for `/admin/*`. Without a key the admin endpoints are disabled.
///
/// ```yaml
/// admin: { api_key: ${HUB_ADMIN_API_KEY} }
/// ```
struct AdminSettings: ConfigurationSection {
    /// `HUB_ADMIN_API_KEY`. An empty value counts as unset.
    var apiKey: Secret?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKey = "api_key"
    }
}

extension AdminSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiKey = try container.decodeIfPresent(Secret.self, forKey: .apiKey).nonEmpty
    }
}
