// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub
import NIOHTTP1

/// The OpenAI door is a door of the engine: clients that hang up mid-stream cancel their answers
/// (recorded as `cancelled`, never a route failure), and its requests share the engine's limits.
@Suite(.timeLimit(.minutes(2)))
struct OpenAIGatewayCancellationTests {
    static let adminKey = "adm1n-key"

    /// Streams a slow answer and hangs up once the first words have arrived.
    static func hangUpMidStream(_ client: HTTPClient, port: Int, index: Int) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = #"{"model":"model-a","stream":true,"messages":[{"role":"user","content":"tell me slowly a story number \#(index) with many words"}]}"#
        request.body = .bytes(ByteBuffer(string: body))
        let prepared = request
        let (spoke, signal) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let response = try await client.execute(prepared, timeout: .seconds(20))
                #expect(response.status == .ok)
                var text = ""
                for try await buffer in response.body {
                    text += String(buffer: buffer)
                    if text.contains(#""content":"echo:"#) { signal.yield() }
                }
            }
            for await _ in spoke { break }
            group.cancelAll()  // the client goes away: AsyncHTTPClient closes the connection
            _ = try? await group.next()
        }
    }

    static func admin(_ client: any TestClientProtocol, _ path: String) async throws -> JSONValue {
        try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(adminKey)"]) {
            try JSONValue(parsing: $0.body.readableBytesView)
        }
    }

    @Test func clientsThatHangUpMidStreamAreCancelledNotFailures() async throws {
        let upstream = FakeUpstream(streamPause: .milliseconds(150))
        try await upstream.run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), extra: "admin: { api_key: \(Self.adminKey) }")
            try await TestHub.run(configuration) { port, client in
                var settings = HTTPClient.Configuration()
                settings.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
                let clients = 200
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<clients { group.addTask { try await Self.hangUpMidStream(http, port: port, index: index) } }
                        try await group.waitForAll()
                    }
                } catch {
                    try? await http.shutdown()
                    throw error
                }
                try await http.shutdown()
                // Every hang-up reaches the usage table as `cancelled` (written in the background).
                var cancelled: Int64 = 0
                for _ in 0..<250 {
                    let rows = try await Self.admin(client, "/admin/stats")["usage"]?.arrayValue ?? []
                    cancelled = rows.filter { $0["outcome"] == "cancelled" }.compactMap { $0["requests"]?.int64Value }.reduce(0, +)
                    if cancelled >= Int64(clients) { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(cancelled == Int64(clients))
                let rows = try await Self.admin(client, "/admin/stats")["usage"]?.arrayValue ?? []
                #expect(rows.allSatisfy { $0["outcome"] == "cancelled" })
                // The route's breaker stays closed and its record clean.
                let route = try #require(try await Self.admin(client, "/admin/providers")["routes"]?.arrayValue?.first)
                #expect(route["breaker"] == "closed")
                #expect(route["failures"] == 0)
                #expect(route["success_rate"] == .double(1))
                #expect(route["in_flight"] == 0)
                let stats = try await client.execute(uri: "/stats", method: .get) { try JSONValue(parsing: $0.body.readableBytesView) }
                #expect(stats["llm"]?["cancelled"] == .int(Int64(clients)))
                #expect(stats["llm"]?["success_rate"] == .double(1))
                // The upstream saw the clients go: no stream was read to its end.
                #expect(upstream.requests.count == clients)
            }
        }
    }

    @Test func gatewayRequestsShareTheEnginesRateLimit() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), extra: "gateway: { api_keys: [ k1, k2 ], rate_limit: \"2/60s\" }")
            try await TestHub.run(configuration) { _, client in
                func ask(_ key: String, _ index: Int) async throws -> (HTTPResponse.Status, HTTPFields, String) {
                    let body = #"{"model":"model-a","messages":[{"role":"user","content":"limit \#(index)"}]}"#
                    return try await client.execute(
                        uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json", .authorization: "Bearer \(key)"],
                        body: ByteBuffer(string: body)
                    ) { ($0.status, $0.headers, String(buffer: $0.body)) }
                }
                #expect(try await ask("k1", 1).0 == .ok)
                #expect(try await ask("k1", 2).0 == .ok)
                let (status, headers, text) = try await ask("k1", 3)
                #expect(status == .tooManyRequests)
                #expect(Int(headers[.retryAfter] ?? "") ?? 0 >= 1)
                #expect(try JSONValue(parsing: text)["error"]?["code"] == "rate_limit_exceeded")
                // Each key has its own budget.
                #expect(try await ask("k2", 4).0 == .ok)
            }
        }
    }
}
