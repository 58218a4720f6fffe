// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import HummingbirdTesting
import Testing

@testable import Hub

/// The admin dashboard in a real browser (headless Chromium driven by
/// `Support/admin_browser.py`): the key form, then a connected bot with its heartbeat, the
/// providers, the usage chart drawn as SVG over a day of history and the traffic of now, the lanes
/// and the warnings the hub logged; markup in a model's name and in a logged error shows as text.
/// Screenshots land in `.build/test-output/admin-browser/`; the test prints their paths.
@Suite(.serialized, .timeLimit(.minutes(3)), .needsBrowser)
struct AdminBrowserTests {
    static var screenshotFolder: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-output/admin-browser").path
    }

    @Test func anOperatorSeesBotsProvidersUsageLanesAndErrors() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/admin_browser.py").path
        let folder = Self.screenshotFolder
        try? FileManager.default.removeItem(atPath: folder)
        let database = TestHub.databasePath()
        try await AdminHub.seedUsage(path: database, AdminHub.history)
        let found = try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: database, markupModel: true)
            return try await TestHub.run(configuration) { (port: Int, _: any TestClientProtocol) async throws -> JSONValue in
                let bot = FakeOneBot(selfID: 3_847_291_056)
                return try await withThrowingTaskGroup(of: JSONValue?.self) { tasks in
                    defer { bot.disconnect() }
                    tasks.addTask {
                        try await bot.connect(port: port)
                        return nil
                    }
                    try await bot.waitUntilConnected()
                    bot.send(OneBotFrames.heartbeat(selfID: bot.selfID, intervalMS: 5000))
                    // Traffic of now: an answer, a failure on every route, an error that repeats
                    // markup, and a model whose name is markup.
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 5, messageID: 1, text: "hello"))
                    _ = try await bot.action(0, timeout: .seconds(30))
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 6, messageID: 2, text: "please fail"))
                    _ = try await bot.action(1, timeout: .seconds(30))
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 7, messageID: 3, text: AdminHub.markupMessage))
                    _ = try await bot.action(2, timeout: .seconds(30))
                    #expect(try await AdminHub.complete(port: port, model: AdminHub.markupModel, text: "hello") == 200)
                    // Keep the bot's heartbeat fresh while the browser looks.
                    tasks.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(5))
                            bot.send(OneBotFrames.heartbeat(selfID: bot.selfID, intervalMS: 5000))
                        }
                        return nil
                    }
                    let output = try await HelperProcess.run(
                        python,
                        [
                            script, "--url", "http://127.0.0.1:\(port)/admin", "--screenshot-dir", folder, "--key", AdminHub.key,
                            "--bot", String(bot.selfID), "--markup", AdminHub.markupModel,
                            "--markup", "<img src=x onerror=window.__hubXSS=2>",
                        ],
                        timeout: .seconds(150))
                    bot.disconnect()
                    tasks.cancelAll()
                    while let next = try? await tasks.next() { _ = next }
                    return try JSONValue(parsing: output.split(separator: "\n").last.map(String.init) ?? "")
                }
            }
        }
        #expect((found["refusal"]?.stringValue ?? "").contains("does not match"), "\(found.compactJSON)")
        #expect(found["bot_row"]?.arrayValue?.first == .string("3847291056"), "\(found.compactJSON)")
        #expect((found["provider_rows"]?.int64Value ?? 0) >= 3)
        #expect(found["provider_kinds"]?.arrayValue?.contains("llm") == true)
        #expect(found["provider_kinds"]?.arrayValue?.contains("tts") == true)
        let series = found["chart"]?["series"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(series.contains("llm · fake · model-a"), "\(series)")
        #expect(series.contains("llm · fake · \(AdminHub.markupModel)"), "\(series)")
        #expect((found["chart"]?["points"]?.int64Value ?? 0) >= 20, "a day of history")
        #expect(found["lanes"]?.arrayValue?.compactMap(\.stringValue) == ["realtime", "cpu", "batch", "notices"])
        #expect((found["error_rows"]?.int64Value ?? 0) >= 1)
        #expect(found["error_levels"]?.arrayValue?.contains("warning") == true)
        #expect(found["xss_shown_as_text"] == true)
        #expect(found["reload_kept_key"] == true)
        #expect(found["forgot_key"] == true)
        // Each screenshot the script took is named in the test's output and is a PNG with a picture.
        let screenshots = Screenshots.check(found)
        for name in ["key-refused.png", "dashboard.png", "chart.png", "errors.png", "mobile.png", "mobile-chart.png", "mobile-full.png"] {
            #expect(screenshots.contains(name), "\(name)")
        }
    }
}
