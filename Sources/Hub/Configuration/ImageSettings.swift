// SPDX-License-Identifier: Apache-2.0

/// `image`: image generators, tried in order (or by `priority`) with the LLM router's semantics.
/// None by default (`/draw` then answers that none is configured).
///
/// ```yaml
/// image:
///   providers:
///     - { name: dalle, kind: openai, base_url: https://api.openai.com/v1, api_key: ${OPENAI_API_KEY},
///         model: dall-e-3, timeout: 120, cost_per_image: 0.04 }
///     - { name: sd, kind: sdwebui, base_url: http://gpu-box:7860, priority: 2, retry_attempts: 0, max_concurrent: 1 }
/// ```
struct ImageSettings: ConfigurationSection {
    struct ProviderSettings: Sendable, Codable, Equatable {
        /// Unique among image providers.
        var name: String
        /// The implementation: `openai` (`/images/generations`) or `sdwebui` (Stable Diffusion WebUI `sdapi`).
        var kind: String
        var baseURL: String
        var apiKey: Secret?
        /// `openai`: sent as `model`; `sdwebui`: the checkpoint to draw with.
        var model: String?
        /// Seconds one attempt may take (result URLs fetched included).
        var timeout: Double = 120
        /// Lower goes first; unset: configuration order.
        var priority: Int?
        var retryAttempts = 1
        var maxConcurrent: Int?
        var costPerImage: Double?

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
            case costPerImage = "cost_per_image"
        }
    }

    /// The implementations this build has.
    static let kinds = ["openai", "sdwebui"]

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
            validator.require(
                Self.kinds.contains(provider.kind), "\(path).kind", "must be one of \(Self.kinds.joined(separator: ", ")), not `\(provider.kind)`")
            validator.httpURL(provider.baseURL, "\(path).base_url")
            validator.positive(provider.timeout, "\(path).timeout")
            validator.nonNegative(provider.retryAttempts, "\(path).retry_attempts")
            provider.maxConcurrent.map { validator.positive($0, "\(path).max_concurrent") }
            provider.costPerImage.map { validator.nonNegative($0, "\(path).cost_per_image") }
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
        timeout = try container.decode(.timeout, default: 120.0)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        retryAttempts = try container.decode(.retryAttempts, default: 1)
        maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        costPerImage = try container.decodeIfPresent(Double.self, forKey: .costPerImage)
    }
}
