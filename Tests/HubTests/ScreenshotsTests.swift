// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// The browser tests' screenshot check reads a PNG's size and refuses anything else.
struct ScreenshotsTests {
    @Test func aPNGsSizeIsReadAndAnythingElseRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-screenshots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("a.png")
        try Data(FakeImageService.png(for: "a kite")).write(to: png)
        let size = try #require(Screenshots.pngSize(atPath: png.path))
        #expect(size.width == 4 && size.height == 4)
        let empty = folder.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        #expect(Screenshots.pngSize(atPath: empty.path) == nil)
        let text = folder.appendingPathComponent("text.png")
        try Data("not a picture, only words in a file".utf8).write(to: text)
        #expect(Screenshots.pngSize(atPath: text.path) == nil)
        #expect(Screenshots.pngSize(atPath: folder.appendingPathComponent("missing.png").path) == nil)
    }
}
