// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import HummingbirdTesting
import Testing

@testable import Hub

/// `/draw` on the chat page in a real browser (headless Chromium driven by
/// `Support/draw_browser.py`): the acknowledgement names the queue, the picture arrives as an
/// answer of its own and loads from the hub's `/media/`, and after a reload the history shows it
/// again. Screenshots land in `.build/test-output/web-browser/draw/`.
@Suite(.serialized, .timeLimit(.minutes(3)), .needsBrowser)
struct WebDrawBrowserTests {
    @Test func aPersonDrawsAPictureAndSeesItInlineAndInTheHistory() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/draw_browser.py").path
        let folder = WebBrowserTests.screenshotFolder("draw")
        try? FileManager.default.removeItem(atPath: folder)
        let images = FakeImageService()
        let found = try await images.run { imageBase in
            try await FakeUpstream().run { base in
                var configuration = try TestHub.configuration(
                    upstream: base, databasePath: TestHub.databasePath(),
                    extra: """
                        image:
                          providers:
                            - { name: painter, kind: openai, base_url: "\(imageBase)/ok/v1", timeout: 10, retry_attempts: 0 }
                          width: 64
                          height: 64
                        """)
                configuration.storage.mediaDir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-draw-\(UUID().uuidString)").path
                return try await TestHub.run(configuration) { (port: Int, _: any TestClientProtocol) async throws in
                    let output = try await HelperProcess.run(
                        python, [script, "--url", "http://127.0.0.1:\(port)/", "--screenshot-dir", folder, "--prompt", "a red kite"],
                        timeout: .seconds(150))
                    return try JSONValue(parsing: output.split(separator: "\n").last.map(String.init) ?? "")
                }
            }
        }
        #expect((found["acknowledgement"]?.stringValue ?? "").contains("a red kite"), "\(found.compactJSON)")
        #expect(found["picture"]?["loaded"] == true, "\(found.compactJSON)")
        #expect((found["picture"]?["src"]?.stringValue ?? "").hasPrefix("/media/"))
        #expect((found["picture"]?["width"]?.int64Value ?? 0) > 0)
        #expect((found["history_pictures"]?.int64Value ?? 0) >= 1, "the reloaded page shows the picture from the history")
        #expect(found["history_has_draw"] == true)
        #expect(images.requests.map(\.prompt) == ["a red kite"])
        for name in ["drawn.png", "history.png", "final.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name)"), "\(name)")
        }
    }
}
