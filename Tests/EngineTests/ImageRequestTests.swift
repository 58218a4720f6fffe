// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

struct ImageRequestTests {
    @Test func aRequestWithinBoundsIsValid() throws {
        try ImageRequest(prompt: "a red kite", negativePrompt: "blur", width: 512, height: 768, steps: 30, seed: 42, count: 4).validate()
        try ImageRequest(prompt: "x").validate()
        #expect(ImageRequest(prompt: "x", width: 768, height: 512).size == "768x512")
    }

    @Test(arguments: [
        (ImageRequest(prompt: "  \n"), "prompt"),
        (ImageRequest(prompt: String(repeating: "a", count: 4001)), "prompt"),
        (ImageRequest(prompt: "a", negativePrompt: String(repeating: "b", count: 4001)), "negative prompt"),
        (ImageRequest(prompt: "a", width: 0), "width"),
        (ImageRequest(prompt: "a", width: 4096), "width"),
        (ImageRequest(prompt: "a", height: 513), "height"),
        (ImageRequest(prompt: "a", steps: 0), "steps"),
        (ImageRequest(prompt: "a", steps: 151), "steps"),
        (ImageRequest(prompt: "a", seed: -1), "seed"),
        (ImageRequest(prompt: "a", count: 0), "count"),
        (ImageRequest(prompt: "a", count: 9), "count"),
    ])
    func aRequestOutOfBoundsIsTheCallersFault(request: ImageRequest, field: String) {
        let error = #expect(throws: ImageError.self) { try request.validate() }
        #expect(error?.kind == .badInput)
        #expect(error?.message.contains(field) == true, "\(error?.message ?? "")")
    }

    @Test func formatsAreSniffedFromMagicBytesWithTheirSize() throws {
        let png = try #require(GeneratedImage(bytes: StubImageService.png))
        #expect(png.format == .png && png.width == 64 && png.height == 32)
        let jpeg = try #require(GeneratedImage(bytes: StubImageService.jpeg))
        #expect(jpeg.format == .jpeg && jpeg.width == 40 && jpeg.height == 24)
        // A lossless WebP: RIFF, size, WEBP, VP8L, chunk size, signature, 14-bit width-1 and height-1.
        let bits: UInt32 = (100 - 1) | ((50 - 1) << 14)
        let webpBytes: [UInt8] =
            Array("RIFF".utf8) + [30, 0, 0, 0] + Array("WEBP".utf8) + Array("VP8L".utf8) + [10, 0, 0, 0, 0x2F]
            + withUnsafeBytes(of: bits.littleEndian, Array.init) + [0, 0, 0, 0, 0]
        let webp = try #require(GeneratedImage(bytes: webpBytes))
        #expect(webp.format == .webp && webp.width == 100 && webp.height == 50)
        #expect(GeneratedImage(bytes: Array("GIF89a".utf8)) == nil)
        #expect(GeneratedImage(bytes: []) == nil)
        #expect(GeneratedImage(bytes: [0xFF, 0xD8]) == nil)
        // A bare header with no size still counts as its format.
        let headless = try #require(GeneratedImage(bytes: [0xFF, 0xD8, 0xFF, 0xDB]))
        #expect(headless.format == .jpeg && headless.width == nil)
        #expect(GeneratedImage.Format.jpeg.fileExtension == "jpg" && GeneratedImage.Format.webp.mediaType == "image/webp")
    }

    @Test func base64MayCarryWhitespaceAndADataURLPrefix() throws {
        let plain = StubImageService.pngBase64
        #expect(GeneratedImage(base64: plain)?.bytes == StubImageService.png)
        let wrapped = "data:image/png;base64," + plain.enumerated().map { $0.offset % 10 == 9 ? "\($0.element)\n" : "\($0.element)" }.joined()
        #expect(GeneratedImage(base64: wrapped)?.bytes == StubImageService.png)
        #expect(GeneratedImage(base64: "%%%") == nil)
        #expect(GeneratedImage(base64: "") == nil)
        #expect(GeneratedImage(base64: Data("hello".utf8).base64EncodedString()) == nil)
    }
}
