// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import ServiceLifecycle
import NIOCore

/// Owns the hub's outbound `HTTPClient` (one keep-alive pool for every provider and OneBot HTTP
/// API) and the guarded fetcher of media users send (voice messages), and shuts both down after
/// the server has stopped.
struct HTTPClientService: Service {
    let client: HTTPClient
    let fetcher: GuardedFetcher

    init(connectTimeout: Duration, readTimeout: Duration, fetchPolicy: FetchPolicy) {
        fetcher = GuardedFetcher(policy: fetchPolicy)
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .init(connectTimeout), read: .init(readTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.httpVersion = .automatic
        // No tracer is configured in the hub yet; without this every request pays for no-op spans.
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func run() async throws {
        try? await gracefulShutdown()
        try? await fetcher.shutdown()
        try await client.shutdown()
    }
}
