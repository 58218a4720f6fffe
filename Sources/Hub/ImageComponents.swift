// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Logging

/// The hub's image generation, built from `image:`, `lanes.batch` and `storage`: the providers in
/// their configured order (or by `priority`) behind one ``ImageGenerationRouter`` (attempts go to
/// the usage table as kind `image` and to `hub_image_request_duration_seconds`), the durable
/// ``JobQueue`` that runs image jobs on the `batch` lane, and the ``MediaStore`` that keeps the
/// pictures for `storage.media_ttl`.
struct ImageComponents: Sendable {
    let router: ImageGenerationRouter
    let media: MediaStore
    let jobs: JobQueue
    /// The size `/draw` asks for.
    let defaultSize: (width: Int, height: Int)
    /// How long `POST /v1/images/generations` waits for its job.
    let waitTimeout: Duration

    /// - Parameters:
    ///   - fetcher: fetches the result URLs some OpenAI-compatible services answer with, under the
    ///     same guards as every user-driven fetch.
    ///   - databaseReady: fired once the database is migrated; the queue and the sweep wait for it.
    init(
        _ configuration: HubConfiguration, database: HubDatabase, databaseReady: StartSignal, client: HTTPClient, fetcher: GuardedFetcher,
        usage: UsageLedger, metrics: HubMetrics, logger: Logger
    ) {
        let image = configuration.image
        let routes: [ImageGenerationRouter.Route] = image.providers.map { provider in
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
        let jobTimeout = Duration.milliseconds(Int64(image.jobTimeout * 1000))
        router = ImageGenerationRouter(routes: routes, settings: RoutingSettings(strategy: .priority, deadline: jobTimeout), logger: logger) { record in
            usage.record(record)
            metrics.imageAttempt(provider: record.provider, outcome: record.outcome, duration: record.latency)
            if record.quantity > 0 { metrics.imagesGenerated(provider: record.provider, count: Int(record.quantity)) }
        }
        let store = JobStore(database: database)
        media = MediaStore(
            directory: configuration.storage.mediaDir, ttl: .milliseconds(Int64(configuration.storage.mediaTTL * 1000)), jobs: store,
            databaseReady: databaseReady, logger: logger)
        let batch = configuration.lanes.batch
        jobs = JobQueue(
            store: store,
            settings: .init(
                maxConcurrent: batch.maxConcurrent, queueLimit: batch.queue, aging: .milliseconds(Int64(image.priorityAging * 1000)),
                timeout: jobTimeout, maxAttempts: image.jobAttempts),
            runners: [ImageJobRunner.kind: ImageJobRunner(router: router, media: media)], databaseReady: databaseReady, metrics: metrics,
            logger: logger)
        defaultSize = (image.width, image.height)
        waitTimeout = .milliseconds(Int64(image.waitTimeout * 1000))
    }
}
