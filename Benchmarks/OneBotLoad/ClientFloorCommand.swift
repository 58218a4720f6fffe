// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `OneBotLoad client-floor`: what one upstream HTTP call costs its caller, through
/// AsyncHTTPClient configured as the hub configures it and through a ``BareHTTPConnection``.
///
/// Both post the same chat completion request to the same upstream: first one at a time (the
/// round trip's latency, p50 and p99), then from many concurrent callers (requests per second
/// and this process's CPU time per request). The difference is what the client library adds.
struct ClientFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-floor",
        abstract: "Cost of one upstream call: AsyncHTTPClient (as the hub uses it) against a bare NIO HTTP/1.1 connection."
    )

    @Option(help: "Upstream endpoint, e.g. http://127.0.0.1:8000/v1/chat/completions (plain HTTP).") var url: String
    @Option(help: "Requests sent one at a time, per client.") var sequential = 2_000
    @Option(help: "Requests sent by the concurrent callers, per client.") var requests = 20_000
    @Option(help: "Concurrent callers.") var callers = 32

    private static let body = #"{"model":"bench-model","messages":[{"role":"user","content":"What is the capital of France?"}]}"#

    func run() async throws {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host else {
            throw ValidationError("--url must be a plain http:// URL")
        }
        let target = Target(url: url, host: host, port: parsed.port ?? 80, path: parsed.path.isEmpty ? "/" : parsed.path)
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            // Warm both up, then measure them alternately so drift on a shared machine hits both.
            for kind in Kind.allCases { _ = try await measure(kind, target, client, sequential: 200, concurrent: 2_000) }
            var results: [Kind: Result] = [:]
            for kind in Kind.allCases {
                results[kind] = try await measure(kind, target, client, sequential: sequential, concurrent: requests)
            }
            for kind in Kind.allCases {
                guard let result = results[kind] else { continue }
                Console.out(
                    String(
                        format: "%@: round trip p50 %.3f ms, p99 %.3f ms; %d callers: %.0f req/s, %.1f µs CPU per request",
                        kind.rawValue, result.p50, result.p99, callers, result.perSecond, result.cpuPerRequest))
                Console.out(
                    #"{"kind":"client-floor","client":"\#(kind.rawValue)","p50_ms":\#(String(format: "%.3f", result.p50)),"p99_ms":\#(String(format: "%.3f", result.p99)),"#
                        + #""callers":\#(callers),"requests_per_s":\#(Int(result.perSecond)),"cpu_us_per_request":\#(String(format: "%.1f", result.cpuPerRequest))}"#)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    enum Kind: String, CaseIterable {
        case asyncHTTPClient = "AsyncHTTPClient"
        case bareNIO = "bare NIO HTTP/1.1"
    }

    struct Target: Sendable {
        let url: String
        let host: String
        let port: Int
        let path: String
    }

    struct Result {
        var p50: Double
        var p99: Double
        var perSecond: Double
        var cpuPerRequest: Double
    }

    /// One caller's way of making calls: each returns the response status.
    private typealias Call = @Sendable () async throws -> Int

    private func measure(_ kind: Kind, _ target: Target, _ client: HTTPClient, sequential: Int, concurrent: Int) async throws -> Result {
        // Latency: one caller, one request at a time.
        var latencies = LatencyHistogram()
        try await withCaller(kind, target, client) { call in
            for _ in 0..<sequential {
                let start = Monotonic.now()
                try Self.expectOK(try await call())
                latencies.record(microseconds: (Monotonic.now() - start) / 1_000)
            }
        }
        // Throughput and CPU: many callers at once.
        let perCaller = max(1, concurrent / callers)
        let cpuBefore = ProcessCPU.ownSeconds()
        let start = Monotonic.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    try await withCaller(kind, target, client) { call in
                        for _ in 0..<perCaller { try Self.expectOK(try await call()) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double(Monotonic.now() - start) / Double(Monotonic.second)
        let cpu = ProcessCPU.spent(from: cpuBefore, to: ProcessCPU.ownSeconds()) ?? 0
        let total = Double(perCaller * callers)
        return Result(
            p50: Double(latencies.value(atPercentile: 50)) / 1000, p99: Double(latencies.value(atPercentile: 99)) / 1000,
            perSecond: total / seconds, cpuPerRequest: cpu * 1e6 / total)
    }

    private static func expectOK(_ status: Int) throws {
        guard (200..<300).contains(status) else { throw ValidationError("the upstream answered \(status)") }
    }

    /// Runs `body` with a call function of the given kind (a bare connection is the caller's own).
    private func withCaller(
        _ kind: Kind, _ target: Target, _ client: HTTPClient, _ body: (Call) async throws -> Void
    ) async throws {
        switch kind {
        case .asyncHTTPClient:
            try await body {
                var request = HTTPClientRequest(url: target.url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: Self.body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                return Int(response.status.code)
            }
        case .bareNIO:
            let connection = try await BareHTTPConnection.connect(host: target.host, port: target.port)
            do {
                try await body {
                    try await connection.post(path: target.path, host: target.host, body: ByteBuffer(string: Self.body), timeout: .seconds(10))
                }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }
}
