// SPDX-License-Identifier: Apache-2.0

/// `tts`: speech synthesizers, tried in order (or by `priority`) with the LLM router's semantics.
/// By default espeak-ng in process, with English and Chinese voices.
///
/// ```yaml
/// tts:
///   voice: en-us                       # the default voice (else the first provider's first)
///   providers:
///     - { name: cloud, kind: openai, base_url: https://api.openai.com/v1, api_key: ${OPENAI_API_KEY},
///         model: tts-1, voices: [ { name: alloy } ], timeout: 30, retry_attempts: 1 }
///     - { name: espeak, kind: espeak-ng, voices: [ { name: en-us }, { name: cmn } ] }
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
        /// Seconds one attempt may take.
        var timeout: Double = 30
        /// Lower goes first; unset: configuration order.
        var priority: Int?
        var retryAttempts = 1
        var maxConcurrent: Int?
        var costPer1kCharacters: Double?
        /// espeak-ng: 0…100 (50 is its normal pitch).
        var pitch: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case kind
            case voices
            case baseURL = "base_url"
            case apiKey = "api_key"
            case model
            case timeout
            case priority
            case retryAttempts = "retry_attempts"
            case maxConcurrent = "max_concurrent"
            case costPer1kCharacters = "cost_per_1k_characters"
            case pitch
        }
    }

    /// The implementations this build has.
    static let kinds = ["espeak-ng", "openai"]

    /// The voice used when a request names none.
    var voice: String?
    var providers: [ProviderSettings] = [
        ProviderSettings(
            name: "espeak", kind: "espeak-ng",
            voices: ["en-us", "en", "cmn", "yue"].map { VoiceSettings(name: $0) })
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case voice
        case providers
    }
}

extension TTSSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        voice = try container.decodeIfPresent(String.self, forKey: .voice)
        providers = try container.decode(.providers, default: Self().providers)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "tts.providers")
        for (index, provider) in providers.enumerated() {
            let path = "tts.providers[\(index)]"
            validator.require(
                Self.kinds.contains(provider.kind), "\(path).kind", "must be one of \(Self.kinds.joined(separator: ", ")), not `\(provider.kind)`")
            if provider.kind == "openai" {
                validator.require(provider.baseURL != nil, "\(path).base_url", "is required for kind openai")
            }
            provider.baseURL.map { validator.httpURL($0, "\(path).base_url") }
            validator.uniqueNames(provider.voices.map(\.name), in: "\(path).voices")
            validator.positive(provider.timeout, "\(path).timeout")
            validator.nonNegative(provider.retryAttempts, "\(path).retry_attempts")
            provider.maxConcurrent.map { validator.positive($0, "\(path).max_concurrent") }
            provider.costPer1kCharacters.map { validator.nonNegative($0, "\(path).cost_per_1k_characters") }
            provider.pitch.map { validator.require((0...100).contains($0), "\(path).pitch", "must be between 0 and 100") }
        }
        if let voice {
            validator.require(
                providers.contains { $0.voices.isEmpty || $0.voices.contains { $0.name == voice } }, "tts.voice",
                "no provider offers the voice `\(voice)`")
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
        timeout = try container.decode(.timeout, default: 30.0)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        retryAttempts = try container.decode(.retryAttempts, default: 1)
        maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        costPer1kCharacters = try container.decodeIfPresent(Double.self, forKey: .costPer1kCharacters)
        pitch = try container.decodeIfPresent(Int.self, forKey: .pitch)
    }
}
