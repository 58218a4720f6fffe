// SPDX-License-Identifier: Apache-2.0

/// `tts`: speech synthesizers. By default espeak-ng in process, with English and Mandarin voices.
///
/// ```yaml
/// tts: { providers: [ { name: espeak, kind: espeak-ng, voices: [ { name: en }, { name: cmn } ] } ] }
/// ```
struct TTSSettings: ConfigurationSection {
    struct VoiceSettings: Sendable, Codable, Equatable {
        /// The provider's voice id (`en`, `cmn`, `alloy`).
        var name: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
        }
    }

    struct ProviderSettings: Sendable, Codable, Equatable {
        /// Unique among TTS providers.
        var name: String
        /// The implementation: `espeak-ng` (in process) or `openai` (`POST {base_url}/audio/speech`).
        var kind: String
        var voices: [VoiceSettings] = []
        var baseURL: String?
        var apiKey: Secret?
        var model: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case kind
            case voices
            case baseURL = "base_url"
            case apiKey = "api_key"
            case model
        }
    }

    var providers: [ProviderSettings] = [
        ProviderSettings(name: "espeak", kind: "espeak-ng", voices: [VoiceSettings(name: "en"), VoiceSettings(name: "cmn")])
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
    }
}

extension TTSSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        providers = try container.decode(.providers, default: Self().providers)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "tts.providers")
        for (index, provider) in providers.enumerated() {
            let path = "tts.providers[\(index)]"
            validator.nonEmpty(provider.kind, "\(path).kind")
            provider.baseURL.map { validator.httpURL($0, "\(path).base_url") }
            validator.uniqueNames(provider.voices.map(\.name), in: "\(path).voices")
        }
    }
}

extension TTSSettings.VoiceSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
    }
}

extension TTSSettings.ProviderSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(String.self, forKey: .kind)
        voices = try container.decode(.voices, default: [])
        baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
        apiKey = try container.decodeIfPresent(Secret.self, forKey: .apiKey).nonEmpty
        model = try container.decodeIfPresent(String.self, forKey: .model)
    }
}
