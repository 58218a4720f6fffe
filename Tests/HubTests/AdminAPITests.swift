// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Hub

/// The admin API the dashboard reads: `/admin/bots`, `/admin/usage`, `/admin/lanes`,
/// `/admin/errors` and `/admin/providers`, behind the admin key; and the page at `/admin`.
@Suite(.timeLimit(.minutes(2)))
struct AdminAPITests {
    static let paths = ["/admin/bots", "/admin/usage", "/admin/lanes", "/admin/errors", "/admin/providers", "/admin/stats"]

    @Test func everyAdminEndpointWantsTheKeyButThePageIsPublic() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { _, client in
                for path in Self.paths {
                    #expect(try await AdminHub.get(client, path, key: nil).0 == .unauthorized, "\(path)")
                    #expect(try await AdminHub.get(client, path, key: "wrong").0 == .forbidden, "\(path)")
                    #expect(try await AdminHub.get(client, path).0 == .ok, "\(path)")
                }
                // The page and its files need no key: they hold no data.
                for path in ["/admin", "/admin/", "/admin/assets/admin.js", "/admin/assets/admin.css"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .ok, "\(path)")
                        #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true, "\(path)")
                        #expect(response.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false, "\(path)")
                    }
                }
                try await client.execute(uri: "/admin", method: .get) { response in
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    let html = String(buffer: response.body)
                    #expect(html.contains("/admin/assets/admin.js"))
                    #expect(html.contains("id=\"key-form\""))
                }
                try await client.execute(uri: "/admin/assets/admin.js", method: .get) { response in
                    #expect(response.headers[.contentType]?.hasPrefix("text/javascript") == true)
                    // Values reach the page as text only.
                    #expect(!String(buffer: response.body).contains("innerHTML"))
                }
            }
        }
    }

    @Test func withoutAnAdminKeyTheNewEndpointsAreOffToo() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath(), adminKey: nil)
            try await TestHub.run(configuration) { _, client in
                for path in Self.paths {
                    let (status, body) = try await AdminHub.get(client, path, key: "anything")
                    #expect(status == .forbidden, "\(path)")
                    #expect(body["error"]?["message"]?.stringValue?.contains("admin.api_key") == true, "\(path)")
                }
                try await client.execute(uri: "/admin", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    @Test func queriesOutsideTheirBoundsAreRefusedByName() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { _, client in
                let refused = [
                    ("/admin/usage?hours=0", "hours"), ("/admin/usage?hours=721", "hours"), ("/admin/usage?hours=abc", "hours"),
                    ("/admin/usage?hours=1.5", "hours"), ("/admin/usage?hours=", "hours"), ("/admin/usage?bucket=59", "bucket"),
                    ("/admin/usage?bucket=86401", "bucket"), ("/admin/usage?bucket=-60", "bucket"),
                    ("/admin/usage?hours=720&bucket=60", "buckets"), ("/admin/usage?hours=25&bucket=60", "buckets"),
                    ("/admin/usage?kind=video", "kind"), ("/admin/errors?limit=0", "limit"), ("/admin/errors?limit=201", "limit"),
                    ("/admin/errors?limit=ten", "limit"),
                ]
                for (path, name) in refused {
                    let (status, body) = try await AdminHub.get(client, path)
                    #expect(status == .badRequest, "\(path)")
                    #expect(body["error"]?["message"]?.stringValue?.contains(name) == true, "\(path): \(body.compactJSON)")
                }
                for path in ["/admin/usage?hours=720&bucket=86400", "/admin/usage?hours=24&bucket=60", "/admin/usage?kind=tts", "/admin/errors?limit=200"] {
                    #expect(try await AdminHub.get(client, path).0 == .ok, "\(path)")
                }
                let (_, usage) = try await AdminHub.get(client, "/admin/usage")
                #expect(usage["hours"] == 24)
                #expect(usage["bucket_seconds"] == 3600)
                #expect(usage["buckets"]?.arrayValue?.count == 24)
                #expect(usage["series"]?.arrayValue?.isEmpty == true)
                let (_, day) = try await AdminHub.get(client, "/admin/usage?hours=1&bucket=60")
                #expect(day["buckets"]?.arrayValue?.count == 60)
            }
        }
    }

    @Test func aConnectedBotShowsItsHeartbeatAndAnOfflineBotItsOutbox() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath(), onebot: "  reply_wait: 0.2")
            try await TestHub.run(configuration) { port, client in
                let (_, empty) = try await AdminHub.get(client, "/admin/bots")
                #expect(empty["bots"]?.arrayValue?.isEmpty == true)
                #expect(empty["now"]?.doubleValue != nil)

                let online = FakeOneBot(selfID: 1001)
                let offline: Int64 = 2002
                let overHTTP: Int64 = 3003
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await online.connect(port: port) }
                    try await online.waitUntilConnected()
                    online.send(OneBotFrames.heartbeat(selfID: online.selfID, intervalMS: 5000))
                    // A message pushed over HTTP POST for a bot with no connection: its reply waits
                    // `reply_wait`, then goes to the outbox.
                    #expect(try await AdminHub.post(port: port, selfID: offline, OneBotFrames.privateMessage(selfID: offline, user: 7, messageID: 1, text: "hi")) == 204)
                    // A bot that only pushes heartbeats over HTTP POST.
                    #expect(try await AdminHub.post(port: port, selfID: overHTTP, OneBotFrames.heartbeat(selfID: overHTTP, intervalMS: 15000)) == 204)

                    let report = try await AdminHub.wait(client, "/admin/bots") { json in
                        let bots = json["bots"]?.arrayValue ?? []
                        return bots.contains { $0["self_id"] == "1001" && $0["last_heartbeat_at"]?.doubleValue != nil }
                            && bots.contains { $0["self_id"] == "2002" && $0["outbox"]?["pending"] == 1 }
                    }
                    let bots = report["bots"]?.arrayValue ?? []
                    #expect(bots.map { $0["self_id"]?.stringValue ?? "" } == ["1001", "2002", "3003"])
                    let now = report["now"]?.doubleValue ?? 0

                    let first = try #require(bots.first { $0["self_id"] == "1001" })
                    #expect(first["connected"] == true)
                    #expect(first["kinds"] == ["universal"])
                    #expect(first["heartbeat_interval_ms"] == 5000)
                    #expect(first["heartbeat_via"] == "ws")
                    #expect(first["qq_online"] == true)
                    #expect(first["stale"] == false)
                    #expect(abs((first["last_heartbeat_at"]?.doubleValue ?? 0) - now) < 30)
                    let connection = try #require(first["connections"]?.arrayValue?.first)
                    #expect(connection["kind"] == "universal")
                    #expect(connection["heartbeat_interval_ms"] == 5000)
                    #expect((connection["connected_at"]?.doubleValue ?? 0) <= now)
                    #expect(abs((connection["last_frame_at"]?.doubleValue ?? 0) - now) < 30)
                    #expect(first["outbox"]?["pending"] == 0)
                    #expect(first["outbox"]?["oldest_at"] == .null)

                    let second = try #require(bots.first { $0["self_id"] == "2002" })
                    #expect(second["connected"] == false)
                    #expect(second["kinds"] == [])
                    #expect(second["connections"] == [])
                    #expect(second["last_heartbeat_at"] == .null)
                    #expect(abs((second["outbox"]?["oldest_at"]?.doubleValue ?? 0) - now) < 30)

                    let third = try #require(bots.first { $0["self_id"] == "3003" })
                    #expect(third["connected"] == false)
                    #expect(third["kinds"] == ["http"])
                    #expect(third["heartbeat_via"] == "http")
                    #expect(third["heartbeat_interval_ms"] == 15000)

                    // Once the bot is gone it shows as disconnected, its heartbeat remembered.
                    online.disconnect()
                    try await tasks.waitForAll()
                    let after = try await AdminHub.wait(client, "/admin/bots") { json in
                        json["bots"]?.arrayValue?.first { $0["self_id"] == "1001" }?["connected"] == false
                    }
                    #expect(after["bots"]?.arrayValue?.first { $0["self_id"] == "1001" }?["last_heartbeat_at"]?.doubleValue != nil)
                }
            }
        }
    }

    @Test func usageIsBucketedByKindProviderAndModel() async throws {
        let database = TestHub.databasePath()
        // Two hours ago: 3 answers and 2 failures of model-a, and one cancelled turn.
        try await AdminHub.seedUsage(
            path: database, [(7200, "model-a", "ok", 3), (7200, "model-a", "http_500", 2), (7200, "model-a", "cancelled", 1), (90_000, "model-b", "ok", 4)])
        let seededAt = Date().timeIntervalSince1970 - 7200
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: database)
            try await TestHub.run(configuration) { port, client in
                // Now: one answered turn and one that fails on every route (model-a twice, model-b twice).
                #expect(try await AdminHub.complete(port: port, model: "model-a", text: "hello") == 200)
                #expect(try await AdminHub.complete(port: port, model: "model-a", text: "please fail") != 200)
                let usage = try await AdminHub.wait(client, "/admin/usage?hours=24&bucket=3600") { json in
                    let series = json["series"]?.arrayValue ?? []
                    let b = series.first { $0["model"] == "model-b" }
                    return (b?["totals"]?["failures"]?.int64Value ?? 0) >= 2
                }
                let buckets = usage["buckets"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                #expect(buckets.count == 24)
                #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $1 - $0 == 3600 })
                #expect(buckets.allSatisfy { $0.truncatingRemainder(dividingBy: 3600) == 0 })
                let now = usage["now"]?.doubleValue ?? 0
                #expect(buckets.last! <= now && now < buckets.last! + 3600)
                #expect(usage["from"]?.doubleValue == buckets.first)
                #expect(usage["to"]?.doubleValue == buckets.last! + 3600)

                let series = usage["series"]?.arrayValue ?? []
                // model-b's rows of 25 hours ago are outside the window; its failures of now are in.
                #expect(series.map { "\($0["kind"]?.stringValue ?? "")/\($0["provider"]?.stringValue ?? "")/\($0["model"]?.stringValue ?? "")" } == [
                    "llm/fake/model-a", "llm/fake/model-b",
                ])
                let a = try #require(series.first { $0["model"] == "model-a" })
                let seededBucket = (seededAt / 3600).rounded(.down) * 3600
                let old = try #require(a["points"]?.arrayValue?.first { $0["t"]?.doubleValue == seededBucket })
                #expect(old["requests"] == 6)
                #expect(old["ok"] == 3)
                #expect(old["failures"] == 2)
                #expect(old["cancelled"] == 1)
                #expect(old["tokens"] == 30)
                #expect(old["prompt_tokens"] == 18)
                #expect(abs((old["cost"]?.doubleValue ?? 0) - 0.0075) < 1e-9)
                let current = try #require(a["points"]?.arrayValue?.last)
                #expect(current["t"]?.doubleValue == buckets.last)
                #expect(current["ok"] == 1)
                #expect(current["failures"] == 2)
                #expect(a["totals"]?["requests"] == 9)
                #expect(a["totals"]?["ok"] == 4)
                #expect(a["totals"]?["failures"] == 4)
                #expect(a["totals"]?["cancelled"] == 1)
                let b = try #require(series.first { $0["model"] == "model-b" })
                #expect(b["points"]?.arrayValue?.count == 1)
                #expect(b["totals"]?["requests"] == 2)

                // The last hour in minutes holds only what happened now.
                let (_, hour) = try await AdminHub.get(client, "/admin/usage?hours=1&bucket=60")
                let recent = hour["series"]?.arrayValue?.first { $0["model"] == "model-a" }
                #expect(recent?["totals"]?["requests"] == 3)
                // Speech only: nothing.
                let (_, speech) = try await AdminHub.get(client, "/admin/usage?kind=tts")
                #expect(speech["series"] == [])
            }
        }
    }

    @Test func providersOfEveryKindAndLanesWithTheirQueues() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                #expect(try await AdminHub.complete(port: port, model: "model-a", text: "hello") == 200)
                let (_, providers) = try await AdminHub.get(client, "/admin/providers")
                let routes = providers["routes"]?.arrayValue ?? []
                let kinds = routes.compactMap { $0["kind"]?.stringValue }
                #expect(kinds.count == routes.count)
                // LLM first, then the speech engines the hub has by default (espeak-ng, PocketSphinx).
                #expect(Array(kinds.prefix(2)) == ["llm", "llm"])
                #expect(kinds.contains("tts"))
                #expect(kinds.contains("stt"))
                let a = try #require(routes.first { $0["model"] == "model-a" })
                #expect(a["provider"] == "fake")
                #expect(a["breaker"] == "closed")
                #expect(a["successes"] == 1)
                #expect(a["success_rate"]?.doubleValue == 1.0)
                #expect(a["average_latency_ms"]?.doubleValue != nil)

                let (_, lanes) = try await AdminHub.get(client, "/admin/lanes")
                for name in ["realtime", "cpu", "batch", "notices"] {
                    let lane = lanes["lanes"]?[name]
                    #expect(lane?["running"]?.int64Value != nil, "\(name)")
                    #expect((lane?["max_concurrent"]?.int64Value ?? 0) > 0, "\(name)")
                    #expect((lane?["queue_limit"]?.int64Value ?? 0) > 0, "\(name)")
                    #expect(lane?["refused"] == 0, "\(name)")
                }
                #expect(lanes["queues"]?["outbox"] == 0)
                #expect(lanes["queues"]?["usage_unwritten"]?.int64Value != nil)
                #expect(lanes["queues"]?["active_sessions"]?.int64Value != nil)
                #expect((lanes["process"]?["uptime_seconds"]?.doubleValue ?? -1) >= 0)
                #expect((lanes["process"]?["cores"]?.int64Value ?? 0) > 0)
            }
        }
    }

    @Test func warningsTheHubLogsShowUpWithoutSecrets() async throws {
        try await FakeUpstream().run { base in
            let configuration = try AdminHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                let (_, before) = try await AdminHub.get(client, "/admin/errors")
                #expect(before["capacity"] == 200)
                let bot = FakeOneBot(selfID: 4004)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    try await bot.waitUntilConnected()
                    // A heartbeat interval past a day: clamped, and a warning.
                    bot.send(OneBotFrames.heartbeat(selfID: bot.selfID, intervalMS: 999_999_999))
                    // The upstream repeats the message in its error, secrets and markup included.
                    let leak = "\(AdminHub.markupMessage) \(TestHub.token) \(TestHub.secret) upstream-key \(AdminHub.key)"
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 8, messageID: 1, text: leak))
                    #expect(try await bot.action(0, timeout: .seconds(30)).messageText.contains("Sorry"))
                    bot.disconnect()
                    try await tasks.waitForAll()
                }
                let report = try await AdminHub.wait(client, "/admin/errors") { json in
                    let messages = json["entries"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
                    return messages.contains("LLM request failed on every route") && messages.contains("heartbeat interval out of range; clamped")
                }
                let entries = report["entries"]?.arrayValue ?? []
                // Newest first.
                let ids = entries.compactMap { $0["id"]?.int64Value }
                #expect(ids == ids.sorted(by: >))
                #expect((report["total"]?.int64Value ?? 0) >= Int64(entries.count))
                let clamp = try #require(entries.first { $0["message"] == "heartbeat interval out of range; clamped" })
                #expect(clamp["level"] == "warning")
                #expect(clamp["source"] == "Adapters")
                #expect(clamp["metadata"]?["hub.bot"] == "4004")
                #expect(clamp["at"]?.doubleValue != nil)
                let attempt = try #require(entries.first { $0["message"] == "LLM attempt failed" })
                let error = attempt["metadata"]?["error"]?.stringValue ?? ""
                #expect(error.contains("<img src=x onerror=window.__hubXSS=2>"), "\(error)")
                #expect(error.contains(RecentLogs.redacted), "\(error)")
                #expect(attempt["metadata"]?["hub.route"]?.stringValue?.hasPrefix("fake/") == true)
                // No secret, anywhere in the answer.
                let text = report.compactJSON
                for secret in [TestHub.token, TestHub.secret, "upstream-key", AdminHub.key] {
                    #expect(!text.contains(secret), "\(secret) leaked")
                }
                let (_, one) = try await AdminHub.get(client, "/admin/errors?limit=1")
                #expect(one["entries"]?.arrayValue?.count == 1)
                #expect(one["entries"]?[0]?["id"] == entries.first?["id"])
            }
        }
    }
}

extension JSONValue {
    fileprivate subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
