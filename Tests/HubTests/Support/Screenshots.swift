// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

/// The screenshots a browser script saved and listed in its findings (`"screenshots"`).
enum Screenshots {
    /// The width and height in a PNG file's header; nil when the file is missing, empty, not a PNG
    /// or of no size.
    static func pngSize(atPath path: String) -> (width: Int, height: Int)? {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 24 else { return nil }
        let header = [UInt8](data.prefix(24))
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard header.starts(with: signature), header[12..<16].elementsEqual("IHDR".utf8) else { return nil }
        let width = header[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = header[20..<24].reduce(0) { $0 << 8 | Int($1) }
        return width > 0 && height > 0 ? (width, height) : nil
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
