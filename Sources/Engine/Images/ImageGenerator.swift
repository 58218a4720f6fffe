// SPDX-License-Identifier: Apache-2.0

/// Something that draws pictures: an OpenAI-compatible `/images/generations` service
/// (``OpenAIImageGenerator``) or a Stable Diffusion WebUI (``StableDiffusionImageGenerator``).
/// ``ImageGenerationRouter`` tries several in turn.
public protocol ImageGenerator: Sendable {
    /// The configured name, unique among image generators.
    var name: String { get }

    /// Draws `request` (already validated) and returns at least one image, each checked to be a
    /// PNG, JPEG or WebP file. Ends by `deadline` when one is given. Throws ``ImageError``, or
    /// `CancellationError` when the caller went away.
    func generate(_ request: ImageRequest, deadline: ContinuousClock.Instant?) async throws -> [GeneratedImage]
}
