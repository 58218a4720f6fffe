// SPDX-License-Identifier: Apache-2.0

/// `llm`: OpenAI-compatible chat providers and how the router picks among them.
///
/// ```yaml
/// llm:
///   providers:
///     - name: deepseek
///       base_url: https://api.deepseek.com/v1
///       api_key: ${DEEPSEEK_API_KEY}
///       models: [ { name: deepseek-chat, max_tokens: 4096, cost_per_1k_tokens: 0.001, max_concurrent: 100 } ]
///       timeout: 25
///       retry_attempts: 3
///   routing: { strategy: intelligent, weights: { cost: 0.3, latency: 0.3, success_rate: 0.4 } }
///   caching: { enabled: true, ttl: 3600, max_size: 10000 }
///   circuit_breaker: { failure_threshold: 5, recovery_timeout: 60, half_open_max_calls: 3 }
/// ```
///
/// With no provider configured, `OPENAI_BASE_URL` / `OPENAI_API_KEY` / `HUB_LLM_MODEL` add one named
/// `openai` (see ``HubConfiguration/applyEnvironmentShortcuts(_:)``).
struct LLMSettings: ConfigurationSection {
    /// One model a provider serves.
    struct ModelSettings: Sendable, Codable, Equatable {
        /// The model id sent to the provider, e.g. `deepseek-chat`.
        var name: String
        /// Most completion tokens requested.
        var maxTokens: Int?
        /// Cost per 1000 tokens, for routing and usage accounting.
        var costPer1kTokens: Double?
        /// Most requests in flight to this model.
        var maxConcurrent: Int?
        /// The model's context window, in tokens.
        var contextWindow: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case maxTokens = "max_tokens"
            case costPer1kTokens = "cost_per_1k_tokens"
            case maxConcurrent = "max_concurrent"
            case contextWindow = "context_window"
        }
    }

    /// One OpenAI-compatible endpoint (`POST {base_url}/chat/completions`).
    struct ProviderSettings: Sendable, Codable, Equatable {
        /// Unique among providers; shown in metrics and `/v1/models`.
        var name: String
        /// e.g. `https://api.deepseek.com/v1`, `http://localhost:11434/v1`.
        var baseURL: String
        /// Bearer key; `nil` for endpoints without auth (a local Ollama).
        var apiKey: Secret?
        var models: [ModelSettings] = []
        /// Seconds for a whole request.
        var timeout = 25.0
        /// Seconds to connect.
        var connectTimeout = 5.0
        /// Retries after a failed attempt (0: try once).
        var retryAttempts = 3
        /// Lower is preferred by the `priority` strategy.
        var priority: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case baseURL = "base_url"
            case apiKey = "api_key"
            case models
            case timeout
            case connectTimeout = "connect_timeout"
            case retryAttempts = "retry_attempts"
            case priority
        }
    }

    /// `llm.routing`
    struct RoutingSettings: ConfigurationSection {
        enum Strategy: String, Sendable, Codable, CaseIterable, ConfigurationScalar {
            /// Score providers by the weights below.
            case intelligent
            /// Lowest ``ProviderSettings/priority`` first, the others as fallbacks.
            case priority
            case roundRobin = "round_robin"
            case leastBusy = "least_busy"
        }

        /// Weights of the `intelligent` score.
        struct Weights: ConfigurationSection {
            var cost = 0.3
            var latency = 0.3
            var successRate = 0.4

            enum CodingKeys: String, CodingKey, CaseIterable {
                case cost
                case latency
                case successRate = "success_rate"
            }
        }

        /// `HUB_LLM_ROUTING_STRATEGY`
        var strategy = Strategy.intelligent
        var weights = Weights()
        /// Seconds one turn may take with every retry and fallback. `HUB_LLM_ROUTING_DEADLINE`.
        var deadline = 60.0

        enum CodingKeys: String, CodingKey, CaseIterable {
            case strategy
            case weights
            case deadline
        }
    }

    /// `llm.caching`: the response cache.
    struct CachingSettings: ConfigurationSection {
        var enabled = true
        /// Seconds a cached response lives.
        var ttl = 3600.0
        /// Most cached responses (in-process cache).
        var maxSize = 10000

        enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled
            case ttl
            case maxSize = "max_size"
        }
    }

    /// `llm.circuit_breaker`: per provider.
    struct CircuitBreakerSettings: ConfigurationSection {
        /// Consecutive failures that open the breaker.
        var failureThreshold = 5
        /// Seconds the breaker stays open before trying again.
        var recoveryTimeout = 60.0
        /// Trial calls let through while half open.
        var halfOpenMaxCalls = 3

        enum CodingKeys: String, CodingKey, CaseIterable {
            case failureThreshold = "failure_threshold"
            case recoveryTimeout = "recovery_timeout"
            case halfOpenMaxCalls = "half_open_max_calls"
        }
    }

    var providers: [ProviderSettings] = []
    /// The model new sessions use (a model name, or `provider/model`); `nil`: the router's choice.
    /// `HUB_LLM_DEFAULT_MODEL`, or `HUB_LLM_MODEL` when unset.
    var defaultModel: String?
    var routing = RoutingSettings()
    var caching = CachingSettings()
    var circuitBreaker = CircuitBreakerSettings()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
        case defaultModel = "default_model"
        case routing
        case caching
        case circuitBreaker = "circuit_breaker"
    }
}

// MARK: - Decoding

extension LLMSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        providers = try container.decode(.providers, default: defaults.providers)
        defaultModel = try container.decodeIfPresent(String.self, forKey: .defaultModel)
        routing = try container.decode(.routing, default: defaults.routing)
        caching = try container.decode(.caching, default: defaults.caching)
        circuitBreaker = try container.decode(.circuitBreaker, default: defaults.circuitBreaker)
    }
}

extension LLMSettings.ModelSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        costPer1kTokens = try container.decodeIfPresent(Double.self, forKey: .costPer1kTokens)
        maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        contextWindow = try container.decodeIfPresent(Int.self, forKey: .contextWindow)
    }
}

extension LLMSettings.ProviderSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        baseURL = try container.decode(String.self, forKey: .baseURL)
        apiKey = try container.decodeIfPresent(Secret.self, forKey: .apiKey).nonEmpty
        models = try container.decode(.models, default: [])
        timeout = try container.decode(.timeout, default: 25.0)
        connectTimeout = try container.decode(.connectTimeout, default: 5.0)
        retryAttempts = try container.decode(.retryAttempts, default: 3)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
    }
}

extension LLMSettings.RoutingSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        strategy = try container.decode(.strategy, default: defaults.strategy)
        weights = try container.decode(.weights, default: defaults.weights)
        deadline = try container.decode(.deadline, default: defaults.deadline)
    }
}

extension LLMSettings.RoutingSettings.Weights {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        cost = try container.decode(.cost, default: defaults.cost)
        latency = try container.decode(.latency, default: defaults.latency)
        successRate = try container.decode(.successRate, default: defaults.successRate)
    }
}

extension LLMSettings.CachingSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        enabled = try container.decode(.enabled, default: defaults.enabled)
        ttl = try container.decode(.ttl, default: defaults.ttl)
        maxSize = try container.decode(.maxSize, default: defaults.maxSize)
    }
}

extension LLMSettings.CircuitBreakerSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        failureThreshold = try container.decode(.failureThreshold, default: defaults.failureThreshold)
        recoveryTimeout = try container.decode(.recoveryTimeout, default: defaults.recoveryTimeout)
        halfOpenMaxCalls = try container.decode(.halfOpenMaxCalls, default: defaults.halfOpenMaxCalls)
    }
}

// MARK: - Validation

extension LLMSettings {
    func validate(into validator: inout ConfigurationValidator) {
        validator.uniqueNames(providers.map(\.name), in: "llm.providers")
        for (index, provider) in providers.enumerated() {
            let path = "llm.providers[\(index)]"
            validator.httpURL(provider.baseURL, "\(path).base_url")
            validator.require(!provider.models.isEmpty, "\(path).models", "at least one model is required")
            validator.uniqueNames(provider.models.map(\.name), in: "\(path).models")
            for (modelIndex, model) in provider.models.enumerated() {
                let modelPath = "\(path).models[\(modelIndex)]"
                model.maxTokens.map { validator.positive($0, "\(modelPath).max_tokens") }
                model.costPer1kTokens.map { validator.nonNegative($0, "\(modelPath).cost_per_1k_tokens") }
                model.maxConcurrent.map { validator.positive($0, "\(modelPath).max_concurrent") }
                model.contextWindow.map { validator.positive($0, "\(modelPath).context_window") }
            }
            validator.positive(provider.timeout, "\(path).timeout")
            validator.positive(provider.connectTimeout, "\(path).connect_timeout")
            validator.nonNegative(provider.retryAttempts, "\(path).retry_attempts")
        }
        if let defaultModel, !providers.isEmpty {
            let known = providers.contains { provider in
                provider.models.contains { $0.name == defaultModel || "\(provider.name)/\($0.name)" == defaultModel }
            }
            validator.require(known, "llm.default_model", "\(ConfigurationNode.quoted(defaultModel)) is not a model of any provider")
        }
        validator.nonNegative(routing.weights.cost, "llm.routing.weights.cost")
        validator.nonNegative(routing.weights.latency, "llm.routing.weights.latency")
        validator.nonNegative(routing.weights.successRate, "llm.routing.weights.success_rate")
        validator.positive(routing.deadline, "llm.routing.deadline")
        validator.positive(caching.ttl, "llm.caching.ttl")
        validator.positive(caching.maxSize, "llm.caching.max_size")
        validator.positive(circuitBreaker.failureThreshold, "llm.circuit_breaker.failure_threshold")
        validator.positive(circuitBreaker.recoveryTimeout, "llm.circuit_breaker.recovery_timeout")
        validator.positive(circuitBreaker.halfOpenMaxCalls, "llm.circuit_breaker.half_open_max_calls")
    }
}
