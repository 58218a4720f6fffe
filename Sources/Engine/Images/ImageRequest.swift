// SPDX-License-Identifier: Apache-2.0

/// What to draw: a prompt and the picture's shape, checked against ``Bounds`` before any provider
/// is asked (see ``validate()``).
///
/// ```swift
/// let request = ImageRequest(prompt: "a lighthouse at dusk", width: 768, height: 512, count: 2)
/// try request.validate()
/// ```
public struct ImageRequest: Sendable, Hashable, Codable {
    /// The limits every request must keep.
    public enum Bounds {
        /// Longest prompt (and negative prompt), in characters.
        public static let maxPromptCharacters = 4000
        /// Width and height, in pixels; each a multiple of ``dimensionStep``.
        public static let dimensions = 64...2048
        public static let dimensionStep = 8
        /// Sampling steps (Stable Diffusion).
        public static let steps = 1...150
        /// Images per request.
        public static let count = 1...8
    }

    public var prompt: String
    /// What the picture should not show; providers without the notion ignore it.
    public var negativePrompt: String?
    public var width: Int
    public var height: Int
    /// Sampling steps; nil: the provider's default. Providers without the notion ignore it.
    public var steps: Int?
    /// For a reproducible picture; nil: random. Providers without the notion ignore it.
    public var seed: Int64?
    /// How many images.
    public var count: Int
    /// Draw fast rather than fine (the seed API's `use_turbo`): Stable Diffusion takes few steps
    /// (``turboSteps`` unless steps are given) at a low CFG scale, as turbo checkpoints want;
    /// providers without the notion ignore it.
    public var turbo: Bool?

    /// Steps a turbo request takes when it names none.
    public static let turboSteps = 4

    public init(
        prompt: String, negativePrompt: String? = nil, width: Int = 1024, height: Int = 1024, steps: Int? = nil, seed: Int64? = nil, count: Int = 1,
        turbo: Bool? = nil
    ) {
        self.turbo = turbo
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.steps = steps
        self.seed = seed
        self.count = count
    }

    /// Throws ``ImageError`` of kind `badInput` naming the first field out of ``Bounds``.
    public func validate() throws {
        guard prompt.contains(where: { !$0.isWhitespace }) else { throw ImageError.badInput("the prompt is empty") }
        guard prompt.count <= Bounds.maxPromptCharacters else {
            throw ImageError.badInput("the prompt is longer than \(Bounds.maxPromptCharacters) characters")
        }
        if let negativePrompt, negativePrompt.count > Bounds.maxPromptCharacters {
            throw ImageError.badInput("the negative prompt is longer than \(Bounds.maxPromptCharacters) characters")
        }
        for (name, value) in [("width", width), ("height", height)] {
            guard Bounds.dimensions.contains(value), value % Bounds.dimensionStep == 0 else {
                throw ImageError.badInput(
                    "\(name) must be a multiple of \(Bounds.dimensionStep) from \(Bounds.dimensions.lowerBound) to \(Bounds.dimensions.upperBound), not \(value)")
            }
        }
        if let steps, !Bounds.steps.contains(steps) {
            throw ImageError.badInput("steps must be from \(Bounds.steps.lowerBound) to \(Bounds.steps.upperBound), not \(steps)")
        }
        if let seed, seed < 0 { throw ImageError.badInput("seed must not be negative, not \(seed)") }
        guard Bounds.count.contains(count) else {
            throw ImageError.badInput("count must be from \(Bounds.count.lowerBound) to \(Bounds.count.upperBound), not \(count)")
        }
    }

    /// `WxH`, as OpenAI's `size`.
    public var size: String { "\(width)x\(height)" }
}
