// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Logging

/// The hub's image generation, built from `image:`: the providers in their configured order (or
/// by `priority`) behind one ``ImageGenerationRouter``, whose attempts go to the usage table (kind
/// `image`) and to `hub_image_request_duration_seconds` and `hub_images_generated_total`.
///
/// Not used by any route yet: durable image jobs on the `batch` lane, `/api/v1/image/generate`,
/// `/v1/images/generations` and `/draw` (issue 15) will call ``router``.
struct ImageComponents: Sendable {
    let router: ImageGenerationRouter

    /// - Parameters:
    ///   - fetcher: fetches the result URLs some OpenAI-compatible services answer with, under the
    ///     same guards as every user-driven fetch.
    init(_ configuration: HubConfiguration, client: HTTPClient, fetcher: GuardedFetcher, usage: UsageLedger, metrics: HubMetrics, logger: Logger) {
        let routes: [ImageGenerationRouter.Route] = configuration.image.providers.map { provider in
            let timeout = Duration.milliseconds(Int64(provider.timeout * 1000))
            let generator: any ImageGenerator =
                switch provider.kind {
                case "sdwebui":
                    StableDiffusionImageGenerator(
                        configuration: .init(
                            name: provider.name, baseURL: provider.baseURL, apiKey: provider.apiKey?.value, model: provider.model, timeout: timeout),
                        client: client, logger: logger)
                default:
                    OpenAIImageGenerator(
                        configuration: .init(
                            name: provider.name, baseURL: provider.baseURL, apiKey: provider.apiKey?.value, model: provider.model, timeout: timeout),
                        client: client, fetcher: fetcher, logger: logger)
                }
            return ImageGenerationRouter.Route(
                generator, model: provider.model, priority: provider.priority, maxConcurrent: provider.maxConcurrent,
                retryAttempts: provider.retryAttempts, costPerImage: provider.costPerImage)
        }
        router = ImageGenerationRouter(routes: routes, logger: logger) { record in
            usage.record(record)
            metrics.imageAttempt(provider: record.provider, outcome: record.outcome, duration: record.latency)
            if record.quantity > 0 { metrics.imagesGenerated(provider: record.provider, count: Int(record.quantity)) }
        }
    }
}
