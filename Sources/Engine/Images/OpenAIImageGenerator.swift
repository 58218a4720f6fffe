// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// An image generator speaking OpenAI's `POST /images/generations`: OpenAI itself and the services
/// and local servers that copy it.
///
/// The request is JSON (`model`, `prompt`, `n`, `size: "WxH"`, `response_format: "b64_json"`); the
/// answer's `data[]` items carry `b64_json` or, from services that ignore `response_format`, a
/// `url`. A URL is fetched through the ``GuardedFetcher`` (http/https only, no private or loopback
/// address unless its policy allows, size and time capped), since it is the provider's word, not
/// ours. An answer that is not JSON, has no images, undecodable base64, a URL that cannot or may
/// not be fetched, or bytes that are not a PNG, JPEG or WebP file is this provider's failure
/// (``ImageError/Kind/malformed``), so the router tries the next one. Negative prompt, steps and
/// seed have no place in this protocol and are not sent.
///
/// ```swift
/// let images = OpenAIImageGenerator(
///     configuration: .init(name: "dalle", baseURL: "https://api.openai.com/v1", apiKey: key, model: "dall-e-3"),
///     client: .shared, fetcher: fetcher, logger: logger)
/// let pictures = try await images.generate(ImageRequest(prompt: "a red kite"), deadline: nil)
/// ```
public struct OpenAIImageGenerator: ImageGenerator {
    /// How to reach the service.
    public struct Configuration: Sendable {
        public var name: String
        /// Base URL up to and including the version, e.g. `https://api.openai.com/v1`.
        public var baseURL: String
        /// Sent as a bearer token when set and not empty.
        public var apiKey: String?
        /// Sent as `model` when set; else the service picks.
        public var model: String?
        /// Longest time one request may take, result URLs fetched included; a caller's earlier
        /// deadline wins.
        public var timeout: Duration
        /// Largest answer accepted (base64 images are a third larger than the files).
        public var maxResponseBytes: Int

        public init(
            name: String, baseURL: String, apiKey: String? = nil, model: String? = nil, timeout: Duration = .seconds(120),
            maxResponseBytes: Int = 64 << 20
        ) {
            self.name = name
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.model = model
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let service: ServiceClient
    private let fetcher: GuardedFetcher?
    private let logger: Logger

    public var name: String { configuration.name }

    /// - Parameters:
    ///   - fetcher: fetches `url` results; nil: a `url` result is the provider's failure.
    public init(configuration: Configuration, client: HTTPClient, fetcher: GuardedFetcher?, logger: Logger) {
        self.configuration = configuration
        self.service = ServiceClient(
            name: configuration.name, client: client, apiKey: configuration.apiKey, timeout: configuration.timeout,
            maxResponseBytes: configuration.maxResponseBytes)
        self.fetcher = fetcher
        self.logger = logger
    }

    public func generate(_ request: ImageRequest, deadline callerDeadline: ContinuousClock.Instant?) async throws -> [GeneratedImage] {
        let now = ContinuousClock.now
        let deadline = callerDeadline.map { min($0, now + configuration.timeout) } ?? now + configuration.timeout
        do {
            let decoded = try await service.postJSON(
                RequestBody(model: configuration.model, prompt: request.prompt, n: request.count, size: request.size, responseFormat: "b64_json"),
                as: ResponseBody.self, url: OpenAICompatibleProvider.join(configuration.baseURL, "images/generations"), deadline: deadline,
                what: "an images response")
            guard let items = decoded.data, !items.isEmpty else { throw ImageError.malformed("\(name): the answer has no images") }
            var images = [GeneratedImage]()
            for (index, item) in items.prefix(request.count).enumerated() {
                images.append(try await image(item, index: index, deadline: deadline))
            }
            return images
        } catch let error as ImageError {
            logger.debug("image generation failed", metadata: ["hub.image.provider": "\(name)", "hub.image.error": "\(error)"])
            throw error
        }
    }

    // MARK: Internals

    private func image(_ item: ResponseBody.Item, index: Int, deadline: ContinuousClock.Instant) async throws -> GeneratedImage {
        if let base64 = item.b64JSON {
            guard let image = GeneratedImage(base64: base64) else {
                throw ImageError.malformed("\(name): data[\(index)].b64_json is not a base64 PNG, JPEG or WebP image")
            }
            return image
        }
        guard let url = item.url, !url.isEmpty else { throw ImageError.malformed("\(name): data[\(index)] has neither b64_json nor url") }
        guard let fetcher else { throw ImageError.malformed("\(name): data[\(index)] is a URL and no fetcher is configured") }
        let name = name
        let fetched: GuardedFetcher.Fetched
        do {
            fetched = try await withDeadline(deadline, expired: { ImageError.timeout("\(name): result URL not fetched in time") }) {
                try await fetcher.fetch(url)
            }
        } catch let error as FetchError {
            throw ImageError(provider: name, fetch: error)
        }
        guard let image = GeneratedImage(bytes: fetched.body) else {
            throw ImageError.malformed("\(name): data[\(index)].url did not serve a PNG, JPEG or WebP image")
        }
        return image
    }

    /// `POST /images/generations`'s body.
    struct RequestBody: Codable, Sendable, Hashable {
        var model: String?
        var prompt: String
        var n: Int
        var size: String
        var responseFormat: String

        enum CodingKeys: String, CodingKey {
            case model, prompt, n, size
            case responseFormat = "response_format"
        }
    }

    /// The answer: `{"created": …, "data": [{"b64_json": …} | {"url": …}]}`.
    struct ResponseBody: Codable, Sendable, Hashable {
        struct Item: Codable, Sendable, Hashable {
            var b64JSON: String?
            var url: String?

            enum CodingKeys: String, CodingKey {
                case b64JSON = "b64_json"
                case url
            }
        }

        var data: [Item]?
    }
}
