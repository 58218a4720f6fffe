// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// An image generator over the Stable Diffusion WebUI API (AUTOMATIC1111 and its forks, started
/// with `--api`): `POST {base}/sdapi/v1/txt2img`.
///
/// The request is JSON (`prompt`, `negative_prompt`, `width`, `height`, `steps`, `seed` (-1:
/// random), `batch_size`, `cfg_scale` (turbo requests only), and `override_settings.sd_model_checkpoint` when a model is configured);
/// the answer's `images` are base64 PNGs. An answer that is not JSON, has no images, or whose
/// images are not PNG, JPEG or WebP files is this provider's failure, so the router tries the next.
///
/// ```swift
/// let sd = StableDiffusionImageGenerator(
///     configuration: .init(name: "sd", baseURL: "http://gpu-box:7860"), client: .shared, logger: logger)
/// ```
public struct StableDiffusionImageGenerator: ImageGenerator {
    /// How to reach the WebUI.
    public struct Configuration: Sendable {
        public var name: String
        /// Where the WebUI listens, e.g. `http://127.0.0.1:7860` (without `/sdapi/v1`).
        public var baseURL: String
        /// Sent as a bearer token when set and not empty (for a WebUI behind an authenticating proxy).
        public var apiKey: String?
        /// The checkpoint to draw with; nil: the one loaded.
        public var model: String?
        /// Steps when the request names none.
        public var defaultSteps: Int
        /// Longest time one request may take; a caller's earlier deadline wins.
        public var timeout: Duration
        /// Largest answer accepted.
        public var maxResponseBytes: Int

        public init(
            name: String, baseURL: String, apiKey: String? = nil, model: String? = nil, defaultSteps: Int = 20, timeout: Duration = .seconds(120),
            maxResponseBytes: Int = 64 << 20
        ) {
            self.name = name
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.model = model
            self.defaultSteps = defaultSteps
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let service: ServiceClient
    private let logger: Logger

    public var name: String { configuration.name }

    public init(configuration: Configuration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.service = ServiceClient(
            name: configuration.name, client: client, apiKey: configuration.apiKey, timeout: configuration.timeout,
            maxResponseBytes: configuration.maxResponseBytes)
        self.logger = logger
    }

    public func generate(_ request: ImageRequest, deadline: ContinuousClock.Instant?) async throws -> [GeneratedImage] {
        do {
            let decoded = try await service.postJSON(
                RequestBody(request, defaultSteps: configuration.defaultSteps, model: configuration.model), as: ResponseBody.self,
                url: OpenAICompatibleProvider.join(configuration.baseURL, "sdapi/v1/txt2img"), deadline: deadline, what: "a txt2img response")
            guard let encoded = decoded.images, !encoded.isEmpty else { throw ImageError.malformed("\(name): the answer has no images") }
            // Some extensions append extra pictures (a grid, a control map): the first `count` are ours.
            return try encoded.prefix(request.count).enumerated().map { index, text in
                guard let image = GeneratedImage(base64: text) else {
                    throw ImageError.malformed("\(name): images[\(index)] is not a base64 PNG, JPEG or WebP image")
                }
                return image
            }
        } catch let error as ImageError {
            logger.debug("image generation failed", metadata: ["hub.image.provider": "\(name)", "hub.image.error": "\(error)"])
            throw error
        }
    }

    /// `POST /sdapi/v1/txt2img`'s body.
    struct RequestBody: Codable, Sendable, Hashable {
        struct OverrideSettings: Codable, Sendable, Hashable {
            var sdModelCheckpoint: String

            enum CodingKeys: String, CodingKey {
                case sdModelCheckpoint = "sd_model_checkpoint"
            }
        }

        var prompt: String
        var negativePrompt: String
        var width: Int
        var height: Int
        var steps: Int
        var seed: Int64
        var batchSize: Int
        /// Set for turbo requests only; otherwise the WebUI's own default.
        var cfgScale: Double?
        var overrideSettings: OverrideSettings?

        enum CodingKeys: String, CodingKey {
            case prompt
            case negativePrompt = "negative_prompt"
            case width, height, steps, seed
            case batchSize = "batch_size"
            case cfgScale = "cfg_scale"
            case overrideSettings = "override_settings"
        }

        init(_ request: ImageRequest, defaultSteps: Int, model: String?) {
            prompt = request.prompt
            negativePrompt = request.negativePrompt ?? ""
            width = request.width
            height = request.height
            let turbo = request.turbo == true
            steps = request.steps ?? (turbo ? ImageRequest.turboSteps : defaultSteps)
            cfgScale = turbo ? 1.5 : nil
            seed = request.seed ?? -1
            batchSize = request.count
            overrideSettings = model.map { OverrideSettings(sdModelCheckpoint: $0) }
        }
    }

    /// The answer: `{"images": [base64…], "parameters": {…}, "info": "…"}`.
    struct ResponseBody: Codable, Sendable, Hashable {
        var images: [String]?
    }
}
