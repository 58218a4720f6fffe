// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import Testing

@testable import Engine

/// The image router over real loopback providers: failover, retries, `Retry-After`, breakers and
/// usage rows.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ImageGenerationRouterTests {
    static let fast = RoutingSettings(strategy: .priority, deadline: .seconds(10), backoff: .milliseconds(5))

    /// A router over OpenAI-compatible stubs, one per behaviour, named after it.
    static func router(
        _ client: HTTPClient, port: Int, _ behaviours: [String], retries: Int = 1, timeout: Duration = .seconds(10), settings: RoutingSettings = fast
    ) -> (ImageGenerationRouter, Locked<[UsageRecord]>) {
        let usage = Locked([UsageRecord]())
        let routes = behaviours.map { behaviour in
            ImageGenerationRouter.Route(
                OpenAIImageGeneratorTests.generator(client, port: port, behaviour: behaviour, timeout: behaviour == "stall" ? timeout : .seconds(10), name: behaviour), model: "m",
                retryAttempts: retries, costPerImage: 0.5)
        }
        let router = ImageGenerationRouter(routes: routes, settings: settings, logger: Logger(label: "image-router-test")) { record in
            usage.withLock { $0.append(record) }
        }
        return (router, usage)
    }

    @Test func theFirstProviderAnswersAndItsUsageIsRecorded() async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, ["ok", "jpeg"])
            let routed = try await router.generate(ImageRequest(prompt: "x"))
            #expect(routed.provider == "ok" && routed.model == "m" && routed.attempts == 1)
            #expect(routed.images.map(\.format) == [.png])
            let records = usage.value
            #expect(records.count == 1)
            #expect(records.first?.kind == "image" && records.first?.outcome == "ok")
            #expect(records.first?.quantity == 1 && records.first?.cost == 0.5)
        }
    }

    @Test func aSlowProviderTimesOutAndTheNextAnswers() async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, ["stall", "ok"], retries: 0, timeout: .milliseconds(300))
            let started = ContinuousClock.now
            let routed = try await router.generate(ImageRequest(prompt: "x"))
            #expect(routed.provider == "ok")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(usage.value.map(\.outcome) == ["timeout", "ok"])
            #expect(usage.value.first?.quantity == 0 && usage.value.first?.cost == 0)
        }
    }

    @Test func a500IsRetriedOnTheSameProvider() async throws {
        try await StubImageService.with { service, port, client in
            let (router, usage) = Self.router(client, port: port, ["flaky", "jpeg"], retries: 2)
            let routed = try await router.generate(ImageRequest(prompt: "x"))
            #expect(routed.provider == "flaky" && routed.attempts == 2)
            #expect(usage.value.map(\.outcome) == ["http_500", "ok"])
            #expect(service.calls.value["jpeg"] == nil)
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, ["limited", "jpeg"])
            let started = ContinuousClock.now
            let routed = try await router.generate(ImageRequest(prompt: "x"))
            #expect(routed.provider == "limited")
            // The backoff alone would be 5 ms; the provider asked for 0.4 s.
            #expect(ContinuousClock.now - started >= .milliseconds(380))
            #expect(usage.value.map(\.outcome) == ["http_429", "ok"])
        }
    }

    @Test(arguments: ["notjson", "nodata", "badbase64", "notimage", "error500"])
    func garbageFailsOverToTheNextProvider(behaviour: String) async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, [behaviour, "ok"], retries: 0)
            let routed = try await router.generate(ImageRequest(prompt: "x"))
            #expect(routed.provider == "ok")
            #expect(usage.value.map(\.outcome) == [behaviour == "error500" ? "http_500" : "malformed", "ok"])
            #expect(router.health.first { $0.provider == behaviour }?.statistics.failures == 1)
        }
    }

    @Test func stableDiffusionServesAsAFallback() async throws {
        try await StubImageService.with { _, port, client in
            let routes = [
                ImageGenerationRouter.Route(OpenAIImageGeneratorTests.generator(client, port: port, behaviour: "notjson"), retryAttempts: 0),
                ImageGenerationRouter.Route(StableDiffusionImageGeneratorTests.generator(client, port: port, behaviour: "ok")),
            ]
            let router = ImageGenerationRouter(routes: routes, settings: Self.fast, logger: Logger(label: "image-router-test"))
            let routed = try await router.generate(ImageRequest(prompt: "x", count: 2))
            #expect(routed.provider == "stub-sd" && routed.images.count == 2)
        }
    }

    @Test func refusedCredentialsTakeTheProviderOutOfRotation() async throws {
        try await StubImageService.with { service, port, client in
            let (router, _) = Self.router(client, port: port, ["unauthorized", "ok"])
            let first = try await router.generate(ImageRequest(prompt: "x"))
            let second = try await router.generate(ImageRequest(prompt: "x"))
            #expect(first.provider == "ok" && second.provider == "ok")
            #expect(service.calls.value["unauthorized"] == 1)
            #expect(router.health.first { $0.provider == "unauthorized" }?.disabled == true)
        }
    }

    @Test func whenEveryProviderFailsTheLastFailureIsThrown() async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, ["error500", "notimage"], retries: 0)
            let error = await thrownError(ImageError.self) { try await router.generate(ImageRequest(prompt: "x")) }
            #expect(error?.kind == .malformed)
            #expect(usage.value.count == 2)
        }
    }

    @Test func aBadRequestOrNoProviderFailsBeforeAnyCall() async throws {
        try await StubImageService.with { service, port, client in
            let (router, usage) = Self.router(client, port: port, ["ok"])
            let bad = await thrownError(ImageError.self) { try await router.generate(ImageRequest(prompt: "x", count: 100)) }
            #expect(bad?.kind == .badInput)
            #expect(service.calls.value.isEmpty && usage.value.isEmpty)
            let empty = ImageGenerationRouter(routes: [], logger: Logger(label: "image-router-test"))
            let none = await thrownError(ImageError.self) { try await empty.generate(ImageRequest(prompt: "x")) }
            #expect(none?.kind == .notConfigured)
        }
    }

    @Test func aCancelledCallerIsNotTheProvidersFailure() async throws {
        try await StubImageService.with { _, port, client in
            let (router, usage) = Self.router(client, port: port, ["stall", "ok"], retries: 0)
            let task = Task { try await router.generate(ImageRequest(prompt: "x")) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            _ = await task.result
            #expect(usage.value.map(\.outcome) == ["cancelled"])
            #expect(router.health.first { $0.provider == "stall" }?.statistics.failures == 0)
        }
    }
}
