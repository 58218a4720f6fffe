// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1

@testable import Hub

/// What the admin API and dashboard tests share: a hub with an admin key, usage history written
/// before it starts, and the calls that make traffic.
enum AdminHub {
    static let key = "adm1n-key"
    /// A model whose name is markup: the dashboard must show it as text.
    static let markupModel = "<img src=x onerror=window.__hubXSS=1>"
    /// Markup the upstream's error repeats, so the hub logs it in a warning.
    static let markupMessage = "complain <img src=x onerror=window.__hubXSS=2> <script>window.__hubXSS=3</script>"

    /// A hub configuration: the admin key (unless nil), one provider at `upstream` with `model-a`,
    /// `model-b` and, with `markupModel`, a model named ``markupModel``.
    static func configuration(
        upstream: String, databasePath: String, adminKey: String? = key, markupModel: Bool = false, onebot: String = ""
    ) throws -> HubConfiguration {
        let models = ["{ name: model-a, cost_per_1k_tokens: 0.5 }", "{ name: model-b }"] + (markupModel ? ["{ name: \"\(Self.markupModel)\" }"] : [])
        let yaml = """
            server: { host: 127.0.0.1, port: 0 }
            storage: { sqlite_path: "\(databasePath)" }
            \(adminKey.map { "admin: { api_key: \($0) }" } ?? "")
            onebot:
              access_token: \(TestHub.token)
              secret: \(TestHub.secret)
              action_timeout: 5
            \(onebot)
            llm:
              providers:
                - name: fake
                  base_url: \(upstream)
                  api_key: upstream-key
                  models: [ \(models.joined(separator: ", ")) ]
                  timeout: 5
                  retry_attempts: 1
            """
        return try HubConfiguration.parse(yaml: yaml, environment: [:])
    }

    /// Writes usage rows into the database at `path` before the hub opens it: `at` seconds ago, for
    /// each `(model, outcome, count)`.
    static func seedUsage(path: String, _ rows: [(secondsAgo: Double, model: String, outcome: String, count: Int)]) async throws {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let database = try HubDatabase(path: path)
        try database.migrate()
        var logger = Logger(label: "seed")
        logger.logLevel = .critical
        let ledger = UsageLedger(database: database, logger: logger)
        let now = Date()
        for row in rows {
            for _ in 0..<row.count {
                ledger.record(
                    UsageRecord(
                        provider: "fake", model: row.model, outcome: row.outcome, promptTokens: 3, completionTokens: 2,
                        cost: row.outcome == "ok" ? 0.0025 : 0, latency: .milliseconds(120), at: now.addingTimeInterval(-row.secondsAgo)))
            }
        }
        await ledger.flush()
    }

    /// A day of made-up traffic, for a chart with a history.
    static var history: [(secondsAgo: Double, model: String, outcome: String, count: Int)] {
        var rows = [(secondsAgo: Double, model: String, outcome: String, count: Int)]()
        for hour in 1...23 {
            let secondsAgo = Double(hour) * 3600
            rows.append((secondsAgo, "model-a", "ok", 2 + (hour * 7) % 9))
            if hour % 4 == 0 { rows.append((secondsAgo, "model-a", "http_500", 2)) }
            rows.append((secondsAgo + 600, "model-b", "ok", 1 + (hour * 5) % 6))
        }
        return rows
    }

    /// `GET path` with `key` as the bearer key (none when nil); the status and the JSON body.
    static func get(_ client: any TestClientProtocol, _ path: String, key: String? = key) async throws -> (HTTPResponse.Status, JSONValue) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: path, method: .get, headers: headers) { response in
            (response.status, (try? JSONValue(parsing: response.body.readableBytesView)) ?? .null)
        }
    }

    /// Pushes `event` for `selfID` over the HTTP POST door, signed; the status.
    static func post(port: Int, selfID: Int64, _ event: JSONValue) async throws -> UInt {
        try await SignedCallback.post(port: port, selfID: String(selfID), body: event.compactJSON)
    }

    /// One chat completion for `model` through the OpenAI-compatible door; the status.
    static func complete(port: Int, model: String, text: String) async throws -> UInt {
        let body: JSONValue = ["model": .string(model), "messages": [["role": "user", "content": .string(text)]]]
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.compactJSON))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(40))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    /// Waits (bounded) until `GET path` answers JSON for which `condition` holds; returns it.
    static func wait(
        _ client: any TestClientProtocol, _ path: String, timeout: Duration = .seconds(20), until condition: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (_, json) = try await get(client, path)
            if condition(json) { return json }
            guard ContinuousClock.now < deadline else { throw Unmet(what: "\(path) to satisfy the condition; last: \(json.compactJSON)") }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}
