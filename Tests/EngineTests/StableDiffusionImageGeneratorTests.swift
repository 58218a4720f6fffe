// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import Testing

@testable import Engine

@Suite(.serialized, .timeLimit(.minutes(1)))
struct StableDiffusionImageGeneratorTests {
    static func generator(_ client: HTTPClient, port: Int, behaviour: String, model: String? = nil) -> StableDiffusionImageGenerator {
        StableDiffusionImageGenerator(
            configuration: .init(name: "stub-sd", baseURL: "http://127.0.0.1:\(port)/\(behaviour)", model: model, timeout: .seconds(10)),
            client: client, logger: Logger(label: "sd-test"))
    }

    @Test func txt2imgAndTheRequestThatAskedForIt() async throws {
        try await StubImageService.with { service, port, client in
            let images = try await Self.generator(client, port: port, behaviour: "ok", model: "sdxl.safetensors")
                .generate(ImageRequest(prompt: "a lighthouse", negativePrompt: "people", width: 768, height: 512, steps: 25, seed: 99, count: 2), deadline: nil)
            #expect(images.map(\.bytes) == [StubImageService.png, StubImageService.png])
            let sent = try #require(service.received.value.first)
            #expect(sent.path == "/ok/sdapi/v1/txt2img")
            #expect(sent.authorization == nil)
            let expected: JSONValue = [
                "prompt": "a lighthouse", "negative_prompt": "people", "width": 768, "height": 512, "steps": 25, "seed": 99, "batch_size": 2,
                "override_settings": ["sd_model_checkpoint": "sdxl.safetensors"],
            ]
            #expect(sent.body == expected)
        }
    }

    @Test func defaultsAreARandomSeedAndTheConfiguredSteps() async throws {
        try await StubImageService.with { service, port, client in
            // The stub answers two images; only the one asked for is kept.
            let images = try await Self.generator(client, port: port, behaviour: "ok").generate(ImageRequest(prompt: "x"), deadline: nil)
            #expect(images.count == 1)
            let sent = try #require(service.received.value.first?.body)
            #expect(sent["seed"] == -1)
            #expect(sent["steps"] == 20)
            #expect(sent["negative_prompt"] == "")
            #expect(sent["override_settings"] == nil)
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
}
