// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import Testing

@testable import Engine

@Suite(.serialized, .timeLimit(.minutes(1)))
struct OpenAIImageGeneratorTests {
    static let logger = Logger(label: "image-test")

    static func generator(
        _ client: HTTPClient, port: Int, behaviour: String, fetcher: GuardedFetcher? = nil, timeout: Duration = .seconds(10), name: String = "stub-images"
    ) -> OpenAIImageGenerator {
        OpenAIImageGenerator(
            configuration: .init(name: name, baseURL: "http://127.0.0.1:\(port)/\(behaviour)/v1", apiKey: "sk-img", model: "dall-e-3", timeout: timeout),
            client: client, fetcher: fetcher, logger: logger)
    }

    /// A fetcher that may reach the loopback stub (and nothing else private).
    static func loopbackFetcher() -> GuardedFetcher {
        GuardedFetcher(policy: FetchPolicy(allowedHosts: ["127.0.0.1"], maxBytes: 1 << 20, timeout: .seconds(5)))
    }

    @Test func base64ResultAndTheRequestThatAskedForIt() async throws {
        try await StubImageService.with { service, port, client in
            let images = try await Self.generator(client, port: port, behaviour: "ok")
                .generate(ImageRequest(prompt: "a red kite", negativePrompt: "blur", width: 512, height: 768, steps: 30, seed: 7), deadline: nil)
            #expect(images.count == 1)
            #expect(images.first?.bytes == StubImageService.png)
            #expect(images.first?.format == .png)
            #expect(images.first?.width == 64)
            let sent = try #require(service.received.value.first)
            #expect(sent.path == "/ok/v1/images/generations")
            #expect(sent.authorization == "Bearer sk-img")
            let expected: JSONValue = ["model": "dall-e-3", "prompt": "a red kite", "n": 1, "size": "512x768", "response_format": "b64_json"]
            #expect(sent.body == expected)
        }
    }

    @Test func jpegIsSniffedNotAssumed() async throws {
        try await StubImageService.with { _, port, client in
            let images = try await Self.generator(client, port: port, behaviour: "jpeg").generate(ImageRequest(prompt: "x"), deadline: nil)
            #expect(images.first?.format == .jpeg)
            #expect(images.first?.width == 40 && images.first?.height == 24)
        }
    }

    @Test func aURLResultIsFetchedThroughTheGuardedFetcher() async throws {
        let fetcher = Self.loopbackFetcher()
        try await StubImageService.with { _, port, client in
            let images = try await Self.generator(client, port: port, behaviour: "url", fetcher: fetcher).generate(ImageRequest(prompt: "x"), deadline: nil)
            #expect(images.map(\.bytes) == [StubImageService.png])
        }
        try await fetcher.shutdown()
    }

    @Test func loopbackIsRefusedUnlessThePolicyAllowsIt() async throws {
        let strict = GuardedFetcher(policy: FetchPolicy())
        try await StubImageService.with { _, port, client in
            let error = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: "url", fetcher: strict).generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(error?.kind == .malformed)
            #expect(error?.message.contains("forbidden_address") == true, "\(String(describing: error))")
        }
        try await strict.shutdown()
    }

    @Test(arguments: ["urlprivate", "urlfile", "urlhtml"])
    func aResultURLThatIsPrivateNotHTTPOrNotAnImageIsTheProvidersFailure(behaviour: String) async throws {
        let fetcher = Self.loopbackFetcher()
        try await StubImageService.with { _, port, client in
            let error = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: behaviour, fetcher: fetcher).generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(error?.kind == .malformed, "\(String(describing: error))")
            if behaviour == "urlprivate" { #expect(error?.message.contains("10.0.0.1") == true) }
            if behaviour == "urlfile" { #expect(error?.message.contains("invalid_url") == true) }
        }
        try await fetcher.shutdown()
    }

    @Test func aURLResultWithoutAFetcherIsTheProvidersFailure() async throws {
        try await StubImageService.with { _, port, client in
            let error = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: "url").generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(error?.kind == .malformed)
        }
    }

    @Test(arguments: ["notjson", "nodata", "badbase64", "notimage"])
    func garbageIsMalformed(behaviour: String) async throws {
        try await StubImageService.with { _, port, client in
            let error = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: behaviour).generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(error?.kind == .malformed, "\(String(describing: error))")
        }
    }

    @Test func errorStatusesCarryTheProvidersMessageAndRetryAfter() async throws {
        try await StubImageService.with { _, port, client in
            let failed = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: "error500").generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(failed?.kind == .httpStatus && failed?.status == 500)
            #expect(failed?.message == "GPU on fire")
            let limited = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: "limited").generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(limited?.status == 429 && limited?.retryAfter == 0.4)
        }
    }

    @Test func aStalledServiceTimesOut() async throws {
        try await StubImageService.with { _, port, client in
            let started = ContinuousClock.now
            let error = await thrownError(ImageError.self) {
                try await Self.generator(client, port: port, behaviour: "stall", timeout: .milliseconds(300)).generate(ImageRequest(prompt: "x"), deadline: nil)
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}
