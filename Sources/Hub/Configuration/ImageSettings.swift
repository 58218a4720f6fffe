// SPDX-License-Identifier: Apache-2.0

/// `image`: image generators. None by default (`/draw` then answers that none is configured).
///
/// ```yaml
/// image: { providers: [ { name: dalle, kind: openai, base_url: https://api.openai.com/v1, api_key: ${OPENAI_API_KEY} } ] }
/// ```
struct ImageSettings: ConfigurationSection {
    struct ProviderSettings: Sendable, Codable, Equatable {
        /// Unique among image providers.
        var name: String
        /// The implementation: `openai` (`/images/generations`) or `sdwebui` (Stable Diffusion WebUI `sdapi`).
        var kind: String
        var baseURL: String
        var apiKey: Secret?
        var model: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case kind
            case baseURL = "base_url"
            case apiKey = "api_key"
            case model
        }
    }

    var providers: [ProviderSettings] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
    }
}

extension ImageSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        providers = try container.decode(.providers, default: Self().providers)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "image.providers")
        for (index, provider) in providers.enumerated() {
            let path = "image.providers[\(index)]"
            validator.nonEmpty(provider.kind, "\(path).kind")
            validator.httpURL(provider.baseURL, "\(path).base_url")
        }
    }
}

extension ImageSettings.ProviderSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(String.self, forKey: .kind)
        baseURL = try container.decode(String.self, forKey: .baseURL)
        apiKey = try container.decodeIfPresent(Secret.self, forKey: .apiKey).nonEmpty
        model = try container.decodeIfPresent(String.self, forKey: .model)
    }
}
