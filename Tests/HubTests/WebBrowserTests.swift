// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import Testing

@testable import Hub

/// The chat page in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
/// driven by selenium from the test virtualenv (`make test` sets both up and passes the
/// interpreter as `HUB_TEST_PYTHON`). The upstream writes its answers word by word, so the page
/// must show them growing. Screenshots land in `.build/test-output/web-browser/`.
@Suite(.serialized, .timeLimit(.minutes(3)), .needsBrowser)
struct WebBrowserTests {
    static let marker = "<script>window.__hubXSS=1</script><img src=x onerror=window.__hubXSS=2>"

    static func screenshotFolder(_ name: String) -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-output/web-browser/\(name)").path
    }

    /// Runs the page through the browser script against a hub with `web` as its `web:` section.
    func drive(web: String, token: String?, folder: String) async throws -> JSONValue {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/web_browser.py").path
        try? FileManager.default.removeItem(atPath: folder)
        return try await FakeUpstream(streamPause: .milliseconds(150)).run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: "web: \(web)")
            return try await TestHub.run(configuration) { port, _ in
                var arguments = [
                    script, "--url", "http://127.0.0.1:\(port)/", "--screenshot-dir", folder,
                    "--prompt", "Tell me how streams work, slowly please", "--expect", "echo: Tell me how streams work",
                    "--xss-prompt", "Repeat this slowly: \(Self.marker)", "--xss-marker", Self.marker,
                ]
                if let token { arguments += ["--token", token] }
                let output = try await HelperProcess.run(python, arguments, timeout: .seconds(150))
                let line = output.split(separator: "\n").last.map(String.init) ?? ""
                return try JSONValue(parsing: line)
            }
        }
    }

    @Test func aPersonChatsSeesTheAnswerStreamReloadsAndStartsOver() async throws {
        let folder = Self.screenshotFolder("chat")
        let found = try await drive(web: "{}", token: nil, folder: folder)
        // The answer grew in at least two visible steps before it was done.
        #expect((found["streamed_lengths"]?.arrayValue ?? []).count >= 2)
        #expect(found["history_messages"]?.int64Value ?? 0 >= 2)
        #expect(found["xss_shown_as_text"] == true)
        for name in ["streamed.png", "history.png", "xss.png", "final.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name)"), "\(name)")
        }
    }

    @Test func thePageReconnectsByItselfWhenTheHubRestarts() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/web_browser.py").path
        let folder = Self.screenshotFolder("reconnect")
        try? FileManager.default.removeItem(atPath: folder)
        let signal = FileManager.default.temporaryDirectory.appendingPathComponent("hub-restart-\(UUID().uuidString)").path
        let database = TestHub.databasePath()
        let port = try freePort()
        let found = try await FakeUpstream(streamPause: .milliseconds(150)).run { base in
            // Two hubs one after the other on the same port and SQLite file, as a restart.
            var configuration = try TestHub.configuration(upstream: base, databasePath: database)
            configuration.server.port = port
            let arguments = [
                script, "--url", "http://127.0.0.1:\(port)/", "--screenshot-dir", folder,
                "--prompt", "Tell me how streams work, slowly please", "--expect", "echo: Tell me how streams work",
                "--xss-prompt", "Repeat this slowly: \(Self.marker)", "--xss-marker", Self.marker, "--restart-file", signal,
            ]
            let (browser, stopped) = try await TestHub.serve(configuration) {
                // The browser outlives this first hub: it is a task of its own.
                let browser = Task { try await HelperProcess.run(python, arguments, timeout: .seconds(150)) }
                // Serve until the page has chatted and is ready for the hub to go away.
                let deadline = ContinuousClock.now + .seconds(90)
                while !FileManager.default.fileExists(atPath: signal + ".ready") {
                    guard ContinuousClock.now < deadline else { return (browser, false) }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return (browser, true)
            }
            try await Task.sleep(for: .milliseconds(1500))  // the page sees the hub gone
            return try await TestHub.serve(configuration) {
                let text = try await browser.value
                #expect(stopped)
                return try JSONValue(parsing: text.split(separator: "\n").last.map(String.init) ?? "")
            }
        }
        try? FileManager.default.removeItem(atPath: signal + ".ready")
        let states = found["reconnect_states"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(states.contains("connected"))
        #expect(states.contains { $0 == "reconnecting" || $0 == "offline" || $0 == "connecting" })
        #expect(found["xss_shown_as_text"] == true)
        #expect(FileManager.default.fileExists(atPath: "\(folder)/reconnected.png"))
    }

    @Test func thePageAsksForTheTokenWhenTheHubWantsOne() async throws {
        let folder = Self.screenshotFolder("token")
        let found = try await drive(web: #"{ access_token: "browser-s3cret" }"#, token: "browser-s3cret", folder: folder)
        #expect(found["token_form"] == true)
        #expect(found["xss_shown_as_text"] == true)
    }
}
