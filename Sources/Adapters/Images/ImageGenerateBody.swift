// SPDX-License-Identifier: Apache-2.0
import Engine

/// `POST /api/v1/image/generate`'s body, the seed's shape:
/// `{prompt, width?, height?, steps?, use_turbo?, priority?, negative_prompt?, seed?, n?}`.
struct ImageGenerateBody: Decodable, Sendable {
    var prompt: String
    var width: Int?
    var height: Int?
    var steps: Int?
    var useTurbo: Bool?
    var priority: JobPriority?
    var negativePrompt: String?
    var seed: Int64?
    var n: Int?

    enum CodingKeys: String, CodingKey {
        case prompt, width, height, steps, priority, seed, n
        case useTurbo = "use_turbo"
        case negativePrompt = "negative_prompt"
    }

    /// The request, sized by default as `/draw` is.
    func request(defaultWidth: Int, defaultHeight: Int) -> ImageRequest {
        ImageRequest(
            prompt: prompt, negativePrompt: negativePrompt, width: width ?? defaultWidth, height: height ?? defaultHeight, steps: steps,
            seed: seed, count: n ?? 1, turbo: useTurbo)
    }
}
