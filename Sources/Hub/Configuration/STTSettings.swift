// SPDX-License-Identifier: Apache-2.0

/// `stt`: speech recognizers, tried in order (or by `priority`) with the LLM router's semantics.
/// By default PocketSphinx in process (English).
///
/// ```yaml
/// stt:
///   max_upload_bytes: 26214400
///   providers:
///     - { name: whisper, kind: openai, base_url: http://127.0.0.1:9000/v1, model: whisper-1 }
///     - { name: sphinx, kind: pocketsphinx, pool_size: 2, keywords: [ hello, stop ] }
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
        /// Seconds one attempt may take.
        var timeout: Double = 60
        var priority: Int?
        var retryAttempts = 1
        var maxConcurrent: Int?
        var costPerMinute: Double?
        /// PocketSphinx: decoders kept ready (each holds the model, ~30 MB).
        var poolSize = 2
        /// PocketSphinx: a JSGF grammar (its text) the speech must follow, instead of the language model.
        var grammar: String?
        /// PocketSphinx: words or phrases to spot, instead of the language model.
        var keywords: [String] = []

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case kind
            case baseURL = "base_url"
            case apiKey = "api_key"
            case model
            case timeout
            case priority
            case retryAttempts = "retry_attempts"
            case maxConcurrent = "max_concurrent"
            case costPerMinute = "cost_per_minute"
            case poolSize = "pool_size"
            case grammar
            case keywords
        }
    }

    /// The implementations this build has.
    static let kinds = ["pocketsphinx", "openai"]

    /// Largest audio upload to the recognition routes (OpenAI's limit by default: 25 MiB), and the
    /// most a fetch on a user's behalf reads (voice message and picture URLs).
    var maxUploadBytes = 25 << 20
    var providers: [ProviderSettings] = [ProviderSettings(name: "sphinx", kind: "pocketsphinx")]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxUploadBytes = "max_upload_bytes"
        case providers
    }
}

extension STTSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxUploadBytes = try container.decode(.maxUploadBytes, default: 25 << 20)
        providers = try container.decode(.providers, default: Self().providers)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.positive(maxUploadBytes, "stt.max_upload_bytes")
        validator.uniqueNames(providers.map(\.name), in: "stt.providers")
        for (index, provider) in providers.enumerated() {
            let path = "stt.providers[\(index)]"
            validator.require(
                Self.kinds.contains(provider.kind), "\(path).kind", "must be one of \(Self.kinds.joined(separator: ", ")), not `\(provider.kind)`")
            if provider.kind == "openai" {
                validator.require(provider.baseURL != nil, "\(path).base_url", "is required for kind openai")
            }
            provider.baseURL.map { validator.httpURL($0, "\(path).base_url") }
            validator.positive(provider.timeout, "\(path).timeout")
            validator.nonNegative(provider.retryAttempts, "\(path).retry_attempts")
            provider.maxConcurrent.map { validator.positive($0, "\(path).max_concurrent") }
            provider.costPerMinute.map { validator.nonNegative($0, "\(path).cost_per_minute") }
            validator.positive(provider.poolSize, "\(path).pool_size")
            validator.require(
                provider.grammar == nil || provider.keywords.isEmpty, "\(path).keywords", "cannot be used together with a grammar")
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
        timeout = try container.decode(.timeout, default: 60.0)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        retryAttempts = try container.decode(.retryAttempts, default: 1)
        maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        costPerMinute = try container.decodeIfPresent(Double.self, forKey: .costPerMinute)
        poolSize = try container.decode(.poolSize, default: 2)
        grammar = try container.decodeIfPresent(String.self, forKey: .grammar)
        keywords = try container.decode(.keywords, default: [])
    }
}
