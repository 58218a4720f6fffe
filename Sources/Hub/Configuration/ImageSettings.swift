// SPDX-License-Identifier: Apache-2.0
import Engine

/// `image`: image generators, tried in order (or by `priority`) with the LLM router's semantics.
/// None by default (`/draw` then answers that none is configured).
///
/// ```yaml
/// image:
///   providers:
///     - { name: dalle, kind: openai, base_url: https://api.openai.com/v1, api_key: ${OPENAI_API_KEY},
///         model: dall-e-3, timeout: 120, cost_per_image: 0.04 }
///     - { name: sd, kind: sdwebui, base_url: http://gpu-box:7860, priority: 2, retry_attempts: 0, max_concurrent: 1 }
///   job_timeout: 300      # one attempt of a job, every provider tried included
///   job_attempts: 2       # attempts per job when every provider failed
///   priority_aging: 60    # a waiting job counts one priority higher per this many seconds
///   wait_timeout: 120     # POST /v1/images/generations waits this long for its job
///   width: 1024           # the size /draw asks for
///   height: 1024
/// ```
/// The jobs run on the `batch` lane (`lanes.batch`: concurrency and queue length).
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
    /// Seconds one attempt of an image job may take. `HUB_IMAGE_JOB_TIMEOUT`.
    var jobTimeout: Double = 300
    /// Attempts per job, the first included. `HUB_IMAGE_JOB_ATTEMPTS`.
    var jobAttempts = 2
    /// Seconds of waiting that lift a queued job one priority level. `HUB_IMAGE_PRIORITY_AGING`.
    var priorityAging: Double = 60
    /// Seconds `POST /v1/images/generations` waits for its job before answering 504. `HUB_IMAGE_WAIT_TIMEOUT`.
    var waitTimeout: Double = 120
    /// The picture `/draw` asks for. `HUB_IMAGE_WIDTH`, `HUB_IMAGE_HEIGHT`.
    var width = 1024
    var height = 1024

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
        case jobTimeout = "job_timeout"
        case jobAttempts = "job_attempts"
        case priorityAging = "priority_aging"
        case waitTimeout = "wait_timeout"
        case width
        case height
    }
}

extension ImageSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        providers = try container.decode(.providers, default: defaults.providers)
        jobTimeout = try container.decode(.jobTimeout, default: defaults.jobTimeout)
        jobAttempts = try container.decode(.jobAttempts, default: defaults.jobAttempts)
        priorityAging = try container.decode(.priorityAging, default: defaults.priorityAging)
        waitTimeout = try container.decode(.waitTimeout, default: defaults.waitTimeout)
        width = try container.decode(.width, default: defaults.width)
        height = try container.decode(.height, default: defaults.height)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "image.providers")
        validator.positive(jobTimeout, "image.job_timeout")
        validator.positive(jobAttempts, "image.job_attempts")
        validator.positive(priorityAging, "image.priority_aging")
        validator.positive(waitTimeout, "image.wait_timeout")
        for (name, value) in [("width", width), ("height", height)] {
            validator.require(
                ImageRequest.Bounds.dimensions.contains(value) && value % ImageRequest.Bounds.dimensionStep == 0, "image.\(name)",
                "must be a multiple of \(ImageRequest.Bounds.dimensionStep) from \(ImageRequest.Bounds.dimensions.lowerBound) to \(ImageRequest.Bounds.dimensions.upperBound)")
        }
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
