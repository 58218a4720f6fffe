// SPDX-License-Identifier: Apache-2.0
import Engine

/// `POST /v1/images/generations`'s body, OpenAI's shape: `{prompt, n?, size?, response_format?,
/// model?, quality?, style?, user?}`. `model`, `quality`, `style` and `user` are accepted and not
/// used: the hub's image router picks the generator.
struct OpenAIImageGenerationBody: Decodable, Sendable {
    var prompt: String
    var n: Int?
    /// `WIDTHxHEIGHT`, e.g. `1024x1024`.
    var size: String?
    /// `url` (the default) or `b64_json`.
    var responseFormat: String?
    var model: String?

    enum CodingKeys: String, CodingKey {
        case prompt, n, size, model
        case responseFormat = "response_format"
    }

    /// The request; throws ``OpenAIError`` naming the field at fault.
    func request(defaultWidth: Int, defaultHeight: Int) throws -> ImageRequest {
        var width = defaultWidth
        var height = defaultHeight
        if let size {
            let sides = size.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard sides.count == 2, let parsedWidth = Int(sides[0]), let parsedHeight = Int(sides[1]) else {
                throw OpenAIError.invalidRequest("`size` must look like 1024x1024, not \(size.prefix(32)).", param: "size")
            }
            (width, height) = (parsedWidth, parsedHeight)
        }
        guard ["url", "b64_json"].contains(responseFormat ?? "url") else {
            throw OpenAIError.invalidRequest("`response_format` must be url or b64_json.", param: "response_format")
        }
        return ImageRequest(prompt: prompt, width: width, height: height, count: n ?? 1)
    }
}

/// `POST /v1/images/generations`'s answer: `{created, data: [{url} | {b64_json}]}`.
struct OpenAIImagesResponse: Encodable, Sendable {
    struct Datum: Encodable, Sendable {
        var url: String?
        var b64JSON: String?
        var revisedPrompt: String?

        enum CodingKeys: String, CodingKey {
            case url
            case b64JSON = "b64_json"
            case revisedPrompt = "revised_prompt"
        }
    }

    var created: Int
    var data: [Datum]
}
