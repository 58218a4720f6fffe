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
/// again; no picture but the hub's own is ever shown as an image; a draw that fails is said in the
/// hub's words, with no picture. Screenshots land in `.build/test-output/web-browser/draw*/`.
@Suite(.serialized, .timeLimit(.minutes(3)), .needsBrowser)
struct WebDrawBrowserTests {
    /// Image syntax and markup that must stay text on the page: pictures from elsewhere, a path that
    /// leaves `/media/`, a protocol-relative host with a `/media/`-looking path, an `<img>` whose
    /// `onerror` would set `window.__hubXSS`, and a bare URL to another host's `/media/`.
    static let foreignPictures = [
        "![x](https://example.com/a.png)",
        "![x](/media/../x.png)",
        "![x](//evil.example/media/0123456789abcdef0123456789abcdef.png)",
        "<img src=x onerror=window.__hubXSS=3>",
        "https://example.com/media/0123456789abcdef0123456789abcdef.png",
    ]

    /// Runs `draw_browser.py` with `arguments` (after its URL and folder) against a hub whose one
    /// image provider, `painter`, is `images` (behaviour `scripted`: a prompt starting `fail:` fails) and whose LLM echoes the message.
    func drive(_ images: FakeImageService, folder: String, _ arguments: [String]) async throws -> JSONValue {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/draw_browser.py").path
        try? FileManager.default.removeItem(atPath: folder)
        return try await images.run { imageBase in
            try await FakeUpstream().run { base in
                var configuration = try TestHub.configuration(
                    upstream: base, databasePath: TestHub.databasePath(),
                    extra: """
                        image:
                          providers:
                            - { name: painter, kind: openai, base_url: "\(imageBase)/scripted/v1", timeout: 10, retry_attempts: 0 }
                          width: 64
                          height: 64
                          job_attempts: 2
                        """)
                configuration.storage.mediaDir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-draw-\(UUID().uuidString)").path
                return try await TestHub.run(configuration) { (port: Int, _: any TestClientProtocol) async throws in
                    let output = try await HelperProcess.run(
                        python, [script, "--url", "http://127.0.0.1:\(port)/", "--screenshot-dir", folder] + arguments, timeout: .seconds(150))
                    return try JSONValue(parsing: output.split(separator: "\n").last.map(String.init) ?? "")
                }
            }
        }
    }

    @Test func aPersonDrawsAPictureAndSeesItInlineAndInTheHistory() async throws {
        let folder = WebBrowserTests.screenshotFolder("draw")
        let images = FakeImageService()
        var arguments = ["--prompt", "a red kite"]
        for text in Self.foreignPictures { arguments += ["--foreign-picture", text] }
        let found = try await drive(images, folder: folder, arguments)
        #expect((found["acknowledgement"]?.stringValue ?? "").contains("a red kite"), "\(found.compactJSON)")
        #expect(found["picture"]?["loaded"] == true, "\(found.compactJSON)")
        let own = found["picture"]?["src"]?.stringValue ?? ""
        #expect(own.hasPrefix("/media/"))
        #expect((found["picture"]?["width"]?.int64Value ?? 0) > 0)
        // An answer of every foreign picture and, as controls, the drawn picture's Markdown and a
        // Markdown link: the picture is its one image, the link a link, every foreign text shows
        // literally, no markup ran; the same once the history renders it.
        #expect(found["foreign"]?["answer_images"] == [.string(own)], "\(found.compactJSON)")
        #expect(found["foreign"]?["answer_links"]?.arrayValue?.contains(["a link", "https://example.com/docs"]) == true, "\(found.compactJSON)")
        for key in ["foreign", "history_foreign"] {
            let findings = found[key]
            #expect(findings?["other_images"] == [], "\(key): \(found.compactJSON)")
            #expect(findings?["markup_ran"] == .null, "\(key): \(found.compactJSON)")
            for text in Self.foreignPictures {
                #expect(findings?["literal"]?[text] == true, "\(key): \(text) is not shown literally")
            }
        }
        #expect(found["history_foreign"]?["images"] == [.string(own), .string(own)], "the drawn picture and the control, nothing else")
        #expect((found["history_pictures"]?.int64Value ?? 0) >= 1, "the reloaded page shows the picture from the history")
        #expect(found["history_has_draw"] == true)
        #expect(images.requests.map(\.prompt) == ["a red kite"])
        let screenshots = Screenshots.check(found)
        for name in ["drawn.png", "foreign-pictures.png", "history.png", "final.png"] {
            #expect(screenshots.contains(name), "\(name)")
        }
    }

    @Test func aDrawThatFailsIsSaidInTheHubsWordsWithNoPicture() async throws {
        let folder = WebBrowserTests.screenshotFolder("draw-failed")
        // The same provider draws the first prompt and fails every attempt at the second.
        let images = FakeImageService()
        let doomed = "fail: a doomed kite"
        let found = try await drive(images, folder: folder, ["--prompt", "a red kite", "--fail-prompt", doomed])
        #expect(found["picture"]?["loaded"] == true, "the first draw shows its picture: \(found.compactJSON)")
        #expect((found["failure_acknowledgement"]?.stringValue ?? "").contains(doomed), "\(found.compactJSON)")
        let failure = found["failure"]?.stringValue ?? ""
        #expect(failure == "Sorry, I couldn't draw “\(doomed)”: the image service answered HTTP 500: GPU on fire", "\(failure)")
        #expect(found["failure_result_bubbles"] == 0, "no answer but the note: \(found.compactJSON)")
        #expect(found["images_after_failure"] == found["images_before_failure"], "\(found.compactJSON)")
        #expect(images.count(doomed) == 2, "image.job_attempts: 2")
        #expect(images.answered == 1, "only the first prompt was drawn")
        let screenshots = Screenshots.check(found)
        #expect(screenshots.contains("failed-draw.png"))
    }
}
