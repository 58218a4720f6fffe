// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

/// The screenshots a browser script saved and listed in its findings (`"screenshots"`).
enum Screenshots {
    /// The width and height in a PNG file's header; nil when the file is missing, empty, not a PNG
    /// or of no size.
    /// Read as the hub reads a generated picture (``GeneratedImage``: format from the magic bytes,
    /// size from the header).
    static func pngSize(atPath path: String) -> (width: Int, height: Int)? {
        guard let data = FileManager.default.contents(atPath: path), let image = GeneratedImage(bytes: Array(data)), image.format == .png,
            let width = image.width, let height = image.height, width > 0, height > 0
        else { return nil }
        return (width, height)
    }

    /// Prints every screenshot the script listed, so the test's output names them, and expects
    /// each to be a PNG with a picture in it. Returns their file names.
    @discardableResult
    static func check(_ found: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let paths = found["screenshots"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(!paths.isEmpty, "the script listed no screenshots", sourceLocation: sourceLocation)
        for path in paths {
            let size = pngSize(atPath: path)
            print("screenshot: \(path) " + (size.map { "(PNG, \($0.width)×\($0.height))" } ?? "(not a PNG with a picture)"))
            #expect(size != nil, "\(path) is not a PNG with a picture in it", sourceLocation: sourceLocation)
        }
        return paths.map { URL(fileURLWithPath: $0).lastPathComponent }
    }
}
