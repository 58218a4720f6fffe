// SPDX-License-Identifier: Apache-2.0
import Logging

/// Generates images with the first provider that can, with the LLM and speech routers' semantics
/// (``ProviderRouter``): ordered or weighted providers, a deadline for all attempts, retries with
/// backoff honouring `Retry-After`, a breaker per provider, failover, and a usage row per attempt
/// (kind `image`, the images made as quantity, priced by the route's cost per image).
///
/// A cancelled caller is not a provider failure: it touches no breaker or statistic.
///
/// ```swift
/// let router = ImageGenerationRouter(
///     routes: [.init(openAI, model: "dall-e-3", costPerImage: 0.04), .init(stableDiffusion, retryAttempts: 0)],
///     logger: logger, onAttempt: { usage.record($0) })
/// let routed = try await router.generate(ImageRequest(prompt: "a red kite", count: 2))
/// ```
public final class ImageGenerationRouter: Sendable {
    /// One image generator as the router sees it.
    public struct Route: Sendable {
        public var generator: any ImageGenerator
        /// For the usage table; `image` when the provider has no model setting.
        public var model: String
        /// Lower goes first under the `priority` strategy.
        public var priority: Int?
        /// Most requests in flight; nil: no limit.
        public var maxConcurrent: Int?
        /// Further attempts after a failed one.
        public var retryAttempts: Int
        /// Cost of one image.
        public var costPerImage: Double?

        public init(
            _ generator: any ImageGenerator, model: String? = nil, priority: Int? = nil, maxConcurrent: Int? = nil, retryAttempts: Int = 1,
            costPerImage: Double? = nil
        ) {
            self.generator = generator
            self.model = model ?? "image"
            self.priority = priority
            self.maxConcurrent = maxConcurrent
            self.retryAttempts = retryAttempts
            self.costPerImage = costPerImage
        }
    }

    /// Images and who made them.
    public struct Routed: Sendable {
        public var images: [GeneratedImage]
        public var provider: String
        public var model: String
        /// Attempts made, over every provider tried.
        public var attempts: Int
    }

    /// Routing for image generation: in priority order, and a deadline long enough for a slow
    /// provider and a fallback (each attempt is bounded by its provider's own timeout).
    public static let defaultSettings = RoutingSettings(strategy: .priority, deadline: .seconds(300))

    private let router: ProviderRouter<any ImageGenerator>
    private let onAttempt: @Sendable (UsageRecord) -> Void

    public init(
        routes: [Route], settings: RoutingSettings = ImageGenerationRouter.defaultSettings, logger: Logger,
        onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }
    ) {
        self.onAttempt = onAttempt
        router = ProviderRouter(
            routes: routes.map { route in
                .init(
                    provider: route.generator, providerName: route.generator.name, model: route.model, costPerUnit: route.costPerImage,
                    maxConcurrent: route.maxConcurrent, priority: route.priority, retryAttempts: route.retryAttempts)
            },
            settings: settings, kind: "image", policy: Self.policy(), logger: logger)
    }

    /// Every provider's breaker, rotation and statistics.
    public var health: [RouteHealth] { router.health }

    public var isEmpty: Bool { router.routes.isEmpty }

    /// Validates `request`, then asks the providers in turn. Throws ``ImageError`` (`badInput` for
    /// a request out of bounds, `notConfigured` with no provider, `unavailable` when none could be
    /// tried, else the last provider's failure), or `CancellationError`.
    public func generate(_ request: ImageRequest) async throws -> Routed {
        try request.validate()
        guard !isEmpty else { throw ImageError(kind: .notConfigured, message: "no image generator is configured") }
        let (images, route, attempts) = try await router.run(
            router.candidates { _ in true }, describing: "\(request.count) image(s) of \(request.size)",
            onAttempt: { (attempt, images: [GeneratedImage]?) in
                let made = Double(images?.count ?? 0)
                self.onAttempt(
                    UsageRecord(
                        kind: "image", provider: attempt.route.providerName, model: attempt.route.model, outcome: attempt.outcome,
                        quantity: made, cost: made * (attempt.route.costPerUnit ?? 0), latency: attempt.latency))
            }
        ) { route, deadline -> [GeneratedImage] in
            let images = try await route.provider.generate(request, deadline: deadline)
            guard !images.isEmpty else { throw ImageError.malformed("\(route.providerName): no images") }
            return Array(images.prefix(request.count))
        }
        return Routed(images: images, provider: route.providerName, model: route.model, attempts: attempts)
    }

    // MARK: Policy

    /// What a failed image attempt means for its route.
    static func classify(_ error: any Error) -> FailureVerdict {
        ServiceFailure.verdict(of: error)
    }

    /// `timeout`, `http_429`, … for the usage table and metrics.
    static func outcome(of error: any Error) -> String {
        ServiceFailure.outcome(of: error)
    }

    private static func policy() -> ProviderRouter<any ImageGenerator>.Policy {
        .init(
            classify: { error, _ in classify(error) }, outcome: outcome(of:), retryAfter: { ($0 as? ImageError)?.retryAfter },
            noRoute: { ImageError.unavailable($0) })
    }
}
