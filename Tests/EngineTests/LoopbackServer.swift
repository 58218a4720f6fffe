// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

/// Runs `router` on 127.0.0.1 at a free port and `body` with that port and a fresh `HTTPClient`.
///
/// The client is shut down before the server stops, so the server's shutdown never waits on a
/// kept-alive connection; the server is then cancelled, which ends handlers still stalling on
/// purpose. `body`'s error, if any, is rethrown after both are gone.
func withLoopbackServer<T: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: @Sendable (_ port: Int, _ client: HTTPClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "loopback-server")
    logger.logLevel = .critical
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? -1)
            portContinuation.finish()
        },
        logger: logger)
    let serviceGroup = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let result: Result<T, any Error>
    do {
        result = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends the port stream too, so a server that failed to start cannot leave us waiting.
                defer { portContinuation.finish() }
                try await serviceGroup.run()
            }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try #require(port > 0)
            let ran: Result<T, any Error>
            do {
                ran = .success(try await body(port, client))
            } catch {
                ran = .failure(error)
            }
            try await client.shutdown()
            return ran
        }
    } catch {
        try? await client.shutdown()  // not shut down yet when the server failed to start
        result = .failure(error)
    }
    return try result.get()
}

/// The error `operation` throws, as `E`; records an issue when it returns or throws something else.
func thrownError<E: Error, T>(
    _ errorType: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ operation: () async throws -> T
) async -> E? {
    do {
        let value = try await operation()
        Issue.record("expected \(E.self), got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
