// SPDX-License-Identifier: Apache-2.0
import Foundation

/// One picture a generator made: its file bytes, the format read from its magic bytes (never from
/// what the provider claimed), and its size when the header tells it.
public struct GeneratedImage: Sendable, Hashable {
    /// The image file formats the hub accepts from a provider.
    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        case png, jpeg, webp

        /// `image/png`, …
        public var mediaType: String { "image/\(rawValue)" }
        /// `png`, `jpg`, `webp`.
        public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
    }

    public var bytes: [UInt8]
    public var format: Format
    /// Pixels, when the file's header says.
    public var width: Int?
    public var height: Int?

    /// The image in `bytes`, or nil when they are not a PNG, JPEG or WebP file.
    public init?(bytes: [UInt8]) {
        guard let format = Self.sniff(bytes) else { return nil }
        self.bytes = bytes
        self.format = format
        if let (width, height) = Self.dimensions(of: bytes, format: format) {
            self.width = width
            self.height = height
        }
    }

    /// The image in base64 `text` (whitespace and a `data:…;base64,` prefix allowed), or nil when
    /// it is not valid base64 of a PNG, JPEG or WebP file.
    public init?(base64 text: String) {
        var text = Substring(text)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
        let compact = String(text.filter { !$0.isWhitespace })
        guard !compact.isEmpty, let data = Data(base64Encoded: compact) else { return nil }
        self.init(bytes: Array(data))
    }

    /// The format the magic bytes name.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count >= 4, bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.count >= 16, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        return nil
    }

    // MARK: Dimensions

    private static func dimensions(of bytes: [UInt8], format: Format) -> (Int, Int)? {
        let found: (Int, Int)? =
            switch format {
            case .png: pngDimensions(bytes)
            case .jpeg: jpegDimensions(bytes)
            case .webp: webpDimensions(bytes)
            }
        guard let found, found.0 > 0, found.1 > 0 else { return nil }
        return found
    }

    private static func bigEndian(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= bytes.count else { return nil }
        return bytes[at..<at + count].reduce(0) { $0 << 8 | Int($1) }
    }

    private static func littleEndian(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= bytes.count else { return nil }
        return bytes[at..<at + count].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    /// The IHDR chunk comes first: width and height at 16 and 20.
    private static func pngDimensions(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8),
            let width = bigEndian(bytes, 16, 4), let height = bigEndian(bytes, 20, 4)
        else { return nil }
        return (width, height)
    }

    /// Walks the segments to the first start-of-frame marker.
    private static func jpegDimensions(_ bytes: [UInt8]) -> (Int, Int)? {
        var index = 2
        while index + 3 < bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF {
                index += 1
                continue
            }
            if marker == 0x01 || (0xD0...0xD9).contains(marker) {
                index += 2
                continue
            }
            guard let length = bigEndian(bytes, index + 2, 2), length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard let height = bigEndian(bytes, index + 5, 2), let width = bigEndian(bytes, index + 7, 2) else { return nil }
                return (width, height)
            }
            index += 2 + length
        }
        return nil
    }

    /// The first chunk: `VP8 ` (lossy), `VP8L` (lossless) or `VP8X` (extended).
    private static func webpDimensions(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count >= 30 else { return nil }
        switch String(decoding: bytes[12..<16], as: UTF8.self) {
        case "VP8 ":
            guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A,
                let width = littleEndian(bytes, 26, 2), let height = littleEndian(bytes, 28, 2)
            else { return nil }
            return (width & 0x3FFF, height & 0x3FFF)
        case "VP8L":
            guard bytes[20] == 0x2F, let bits = littleEndian(bytes, 21, 4) else { return nil }
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            guard let width = littleEndian(bytes, 24, 3), let height = littleEndian(bytes, 27, 3) else { return nil }
            return (width + 1, height + 1)
        default:
            return nil
        }
    }
}
