// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import Logging
import Testing

@testable import Hub

/// The `image:` section and the router built from it.
struct ImageConfigurationTests {
    private func error(_ yaml: String) -> ConfigurationError? {
        do {
            _ = try HubConfiguration.parse(yaml: yaml, environment: [:])
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    static let yaml = """
        image:
          providers:
            - { name: dalle, kind: openai, base_url: https://api.openai.com/v1, api_key: sk-image, model: dall-e-3,
                timeout: 90, priority: 2, retry_attempts: 3, max_concurrent: 4, cost_per_image: 0.04 }
            - { name: sd, kind: sdwebui, base_url: http://gpu-box:7860, priority: 1 }
        """

    @Test func parsesTheExtendedProviderSettings() throws {
        let configuration = try HubConfiguration.parse(yaml: Self.yaml, environment: [:])
        let providers = configuration.image.providers
        #expect(providers.map(\.name) == ["dalle", "sd"])
        let dalle = try #require(providers.first)
        #expect(dalle.kind == "openai" && dalle.model == "dall-e-3" && dalle.apiKey?.value == "sk-image")
        #expect(dalle.timeout == 90 && dalle.priority == 2 && dalle.retryAttempts == 3 && dalle.maxConcurrent == 4 && dalle.costPerImage == 0.04)
        let sd = try #require(providers.last)
        #expect(sd.timeout == 120 && sd.retryAttempts == 1 && sd.maxConcurrent == nil && sd.costPerImage == nil && sd.model == nil)
    }

    @Test(arguments: [
        ("image: { providers: [ { name: a, kind: dalle, base_url: http://a } ] }", "image.providers[0].kind"),
        ("image: { providers: [ { name: a, kind: openai, base_url: http://a, timeout: 0 } ] }", "image.providers[0].timeout"),
        ("image: { providers: [ { name: a, kind: openai, base_url: http://a, retry_attempts: -1 } ] }", "image.providers[0].retry_attempts"),
        ("image: { providers: [ { name: a, kind: sdwebui, base_url: http://a, max_concurrent: 0 } ] }", "image.providers[0].max_concurrent"),
        ("image: { providers: [ { name: a, kind: sdwebui, base_url: http://a, cost_per_image: -0.1 } ] }", "image.providers[0].cost_per_image"),
        ("image: { providers: [ { name: a, kind: sdwebui, base_url: http://a }, { name: a, kind: openai, base_url: http://b } ] }", "image.providers"),
    ])
    func rejectsInvalidValues(yaml: String, path: String) {
        let error = error(yaml)
        #expect(error?.code == .invalidValue, "\(String(describing: error))")
        #expect(error?.path?.hasPrefix(path) == true, "\(String(describing: error?.path))")
    }

    @Test func anUnknownProviderKeyIsNamed() {
        let error = error("image: { providers: [ { name: a, kind: sdwebui, base_url: http://a, timeout_seconds: 5 } ] }")
        #expect(error?.path == "image.providers[0].timeout_seconds")
    }

    @Test func theRouterFollowsTheConfiguration() async throws {
        let configuration = try HubConfiguration.parse(yaml: Self.yaml, environment: [:])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("image-components-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try HubDatabase(path: folder.appendingPathComponent("hub.sqlite").path)
        let logger = Logger(label: "image-components-test")
        let fetcher = GuardedFetcher(policy: FetchPolicy())
        let images = ImageComponents(
            configuration, database: database, databaseReady: StartSignal(), client: HTTPClient.shared, fetcher: fetcher,
            usage: UsageLedger(database: database, logger: logger), metrics: .disabled,
            logger: logger)
        #expect(images.router.health.map(\.provider) == ["dalle", "sd"])
        #expect(images.router.health.map(\.model) == ["dall-e-3", "image"])
        #expect(!images.router.isEmpty)
        try await fetcher.shutdown()
    }
}
