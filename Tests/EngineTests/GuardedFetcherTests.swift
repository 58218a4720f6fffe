// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import Engine

/// The guard for fetches a user can cause, against a real server on loopback: what it refuses
/// before any connection (schemes, credentials, every spelling of a loopback or metadata address,
/// a redirect into a private address), and the caps on what it allows (size, time, redirects).
@Suite(.timeLimit(.minutes(1)))
struct GuardedFetcherTests {
    /// Runs a small server on 127.0.0.1 for `body`.
    func withServer(_ body: @Sendable (_ port: Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/small") { _, _ in Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(string: "0123456789"))) }
        router.get("/big") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    for _ in 0..<64 { try await writer.write(ByteBuffer(repeating: 0x41, count: 32 << 10)) }
                    try await writer.finish(nil)
                })
        }
        router.get("/declared") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x42, count: 2 << 20))) }
        router.get("/stall") { _, _ in
            try await Task.sleep(for: .seconds(30))
            return Response(status: .ok)
        }
        router.get("/missing") { _, _ in Response(status: .notFound) }
        router.get("/redirect") { request, _ in
            Response(status: .found, headers: [.location: request.uri.queryParameters.get("to") ?? "/small"])
        }
        router.get("/loop") { _, _ in Response(status: .found, headers: [.location: "/loop"]) }
        var logger = Logger(label: "fetch-test-server")
        logger.logLevel = .critical
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? -1)
                portSink.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { portSink.finish() }
                try await group.run()
            }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(port)
        }
    }

    func withFetcher(_ policy: FetchPolicy, _ body: (GuardedFetcher) async throws -> Void) async throws {
        let fetcher = GuardedFetcher(policy: policy)
        do {
            try await body(fetcher)
        } catch {
            try await fetcher.shutdown()
            throw error
        }
        try await fetcher.shutdown()
    }

    func refusal(_ fetcher: GuardedFetcher, _ url: String) async -> FetchError.Kind? {
        do {
            _ = try await fetcher.fetch(url)
            return nil
        } catch let error as FetchError {
            return error.kind
        } catch {
            Issue.record("not a FetchError: \(error)")
            return nil
        }
    }

    @Test func onlyHTTPAndHTTPSWithAHostAndNoCredentials() async throws {
        try await withFetcher(FetchPolicy()) { fetcher in
            for url in [
                "file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "javascript:alert(1)", "data:text/plain,hi", "http://",
                "http:///path", "//example.com/x", "example.com/x", "http://user:pass@example.com/", "",
            ] {
                #expect(await refusal(fetcher, url) == .invalidURL, "\(url)")
            }
        }
    }

    @Test func everySpellingOfAPrivateAddressIsRefusedByDefault() async throws {
        try await withServer { port in
            try await withFetcher(FetchPolicy()) { fetcher in
                for host in [
                    "127.0.0.1", "localhost", "LOCALHOST", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::1]", "[::ffff:127.0.0.1]",
                    "[::ffff:7f00:1]", "0.0.0.0", "0", "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "[fe80::1]", "[fd00::1]",
                ] {
                    #expect(await refusal(fetcher, "http://\(host):\(port)/small") == .forbiddenAddress, "\(host)")
                }
                #expect(await refusal(fetcher, "https://127.0.0.1:\(port)/small") == .forbiddenAddress)
            }
        }
    }

    @Test func anAllowedHostIsFetchedWithinItsCaps() async throws {
        try await withServer { port in
            let policy = FetchPolicy(allowedHosts: ["127.0.0.1"], maxBytes: 1 << 20, timeout: .seconds(3), maxRedirects: 2)
            try await withFetcher(policy) { fetcher in
                let fetched = try await fetcher.fetch("http://127.0.0.1:\(port)/small")
                #expect(fetched.body == Array("0123456789".utf8))
                #expect(fetched.contentType == "image/png")
                // Streamed past the cap, and declared past it.
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/big") == .tooLarge)
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/declared") == .tooLarge)
                let started = ContinuousClock.now
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/stall") == .timeout)
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/missing") == .httpStatus)
                // Not allowed by name: the name is what the operator listed.
                #expect(await refusal(fetcher, "http://localhost:\(port)/small") == .forbiddenAddress)
            }
        }
    }

    @Test func redirectsAreCheckedOneByOne() async throws {
        try await withServer { port in
            try await withFetcher(FetchPolicy(allowedHosts: ["127.0.0.1"], maxRedirects: 2)) { fetcher in
                // A redirect within the allowed host is followed.
                let followed = try await fetcher.fetch("http://127.0.0.1:\(port)/redirect?to=/small")
                #expect(followed.body == Array("0123456789".utf8))
                #expect(followed.url.hasSuffix("/small"))
                // Into an address that is not allowed (127.0.0.2 is loopback too, but not listed): refused.
                let inward = "http://127.0.0.1:\(port)/redirect?to=http://127.0.0.2:\(port)/small"
                #expect(await refusal(fetcher, inward) == .forbiddenAddress)
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/redirect?to=http://169.254.169.254/latest/meta-data/") == .forbiddenAddress)
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/redirect?to=file:///etc/passwd") == .invalidURL)
                #expect(await refusal(fetcher, "http://127.0.0.1:\(port)/loop") == .tooManyRedirects)
            }
        }
    }

    @Test func privateAddressesWhenTheOperatorAllowsThem() async throws {
        try await withServer { port in
            try await withFetcher(FetchPolicy(allowPrivateAddresses: true)) { (fetcher: GuardedFetcher) async throws in
                #expect(try await fetcher.fetch("http://localhost:\(port)/small").body.count == 10)
                #expect(try await fetcher.fetch("http://2130706433:\(port)/small").body.count == 10)
                // Multicast and reserved stay out.
                #expect(await refusal(fetcher, "http://224.0.0.1:\(port)/small") == .forbiddenAddress)
                #expect(await refusal(fetcher, "http://0.0.0.0:\(port)/small") == .forbiddenAddress)
            }
        }
    }
}
