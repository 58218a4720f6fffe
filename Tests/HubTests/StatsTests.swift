// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing

@testable import Hub

/// Usage accounting as operators see it: `/stats`, and `/admin/*` behind the admin key.
@Suite(.timeLimit(.minutes(1)))
struct StatsTests {
    @Test func statsAndAdminEndpointsAfterChatTurns() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: "admin: { api_key: adm1n-key }")
            try await TestHub.run(configuration) { port, client in
                let bot = FakeOneBot()
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    try await bot.waitUntilConnected()
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 5, messageID: 1, text: "hello"))
                    _ = try await bot.action(0)
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 6, messageID: 2, text: "please fail"))
                    #expect(try await bot.action(1).messageText.contains("Sorry"))
                    bot.disconnect()
                    try await tasks.waitForAll()
                }
                // The ledger writes in the background: wait for the attempts to land.
                var stats = JSONValue.null
                for _ in 0..<100 {
                    stats = try await client.execute(uri: "/stats", method: .get) { try JSONValue(parsing: $0.body.readableBytesView) }
                    if (stats["llm"]?["attempts"]?.int64Value ?? 0) >= 5 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                // 1 answered; the failing turn: model-a twice (retry_attempts 1), then model-b twice.
                #expect(stats["llm"]?["attempts"] == 5)
                #expect(stats["llm"]?["answered"] == 1)
                #expect(stats["llm"]?["prompt_tokens"] == 3)

                try await client.execute(uri: "/admin/stats", method: .get) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/admin/stats", method: .get, headers: [.authorization: "Bearer wrong"]) {
                    #expect($0.status == .forbidden)
                }
                let usage = try await client.execute(uri: "/admin/stats", method: .get, headers: [.authorization: "Bearer adm1n-key"]) {
                    #expect($0.status == .ok)
                    return try JSONValue(parsing: $0.body.readableBytesView)
                }
                let rows = usage["usage"]?.arrayValue ?? []
                #expect(rows.contains { $0["model"] == "model-a" && $0["outcome"] == "ok" && $0["requests"] == 1 })
                #expect(rows.contains { $0["model"] == "model-a" && $0["outcome"] == "http_500" && $0["requests"] == 2 })
                #expect(rows.contains { $0["model"] == "model-b" && $0["outcome"] == "http_500" && $0["requests"] == 2 })

                let providers = try await client.execute(uri: "/admin/providers", method: .get, headers: [.authorization: "bearer adm1n-key"]) {
                    #expect($0.status == .ok)
                    return try JSONValue(parsing: $0.body.readableBytesView)
                }
                // Every kind of route is listed (speech too); the LLM's come first.
                let routes = providers["routes"]?.arrayValue?.filter { $0["kind"] == "llm" } ?? []
                #expect(routes.map { $0["model"]?.stringValue ?? "" } == ["model-a", "model-b"])
                #expect(providers["routes"]?.arrayValue?.prefix(2).compactMap { $0["kind"]?.stringValue } == ["llm", "llm"])
                #expect(routes.first?["breaker"] == "closed")
                #expect(routes.first?["successes"] == 1)
                #expect(routes.first?["failures"] == 2)
                #expect(routes.first?["in_rotation"] == true)
            }
        }
    }

    @Test func withoutAnAdminKeyTheAdminAPIIsOff() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            try await client.execute(uri: "/admin/providers", method: .get, headers: [.authorization: "Bearer anything"]) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("admin.api_key"))
            }
            try await client.execute(uri: "/stats", method: .get) { response in
                #expect(response.status == .ok)
                let json = try JSONValue(parsing: response.body.readableBytesView)
                #expect(json["llm"]?["attempts"] == 0)
            }
        }
    }
}
