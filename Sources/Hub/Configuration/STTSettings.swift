// SPDX-License-Identifier: Apache-2.0

/// `stt`: speech recognizers. By default PocketSphinx in process.
///
/// ```yaml
/// stt: { providers: [ { name: sphinx, kind: pocketsphinx } ] }
/// ```
struct STTSettings: ConfigurationSection {
    struct ProviderSettings: Sendable, Codable, Equatable {
        /// Unique among STT providers.
        var name: String
        /// The implementation: `pocketsphinx` (in process) or `openai` (`POST {base_url}/audio/transcriptions`).
        var kind: String
        var baseURL: String?
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

    var providers: [ProviderSettings] = [ProviderSettings(name: "sphinx", kind: "pocketsphinx")]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
    }
}

extension STTSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        providers = try container.decode(.providers, default: Self().providers)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "stt.providers")
        for (index, provider) in providers.enumerated() {
            let path = "stt.providers[\(index)]"
            validator.nonEmpty(provider.kind, "\(path).kind")
            provider.baseURL.map { validator.httpURL($0, "\(path).base_url") }
        }
    }
}

extension STTSettings.ProviderSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(String.self, forKey: .kind)
        baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
        apiKey = try container.decodeIfPresent(Secret.self, forKey: .apiKey).nonEmpty
        model = try container.decodeIfPresent(String.self, forKey: .model)
    }
}
