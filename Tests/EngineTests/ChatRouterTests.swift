// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import Engine

/// An OpenAI-compatible upstream on loopback whose endpoints misbehave on purpose. The first path
/// component names the endpoint: `/<name>/v1/chat/completions`.
private final class ScriptedUpstream: Sendable {
    struct Counters: Sendable {
        var calls = 0
        var inFlight = 0
        var peak = 0
    }

    let counters = Locked([String: Counters]())
    /// Endpoints that answer 500 while listed.
    let down = Locked(Set<String>())

    func calls(_ name: String) -> Int { counters.value[name]?.calls ?? 0 }
    func peak(_ name: String) -> Int { counters.value[name]?.peak ?? 0 }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/:name/v1/chat/completions") { request, context in
            let name = try context.parameters.require("name")
            _ = try await request.body.collect(upTo: 1 << 20)
            let call = self.counters.withLock { counters -> Int in
                counters[name, default: Counters()].calls += 1
                counters[name]!.inFlight += 1
                counters[name]!.peak = max(counters[name]!.peak, counters[name]!.inFlight)
                return counters[name]!.calls
            }
            defer { self.counters.withLock { $0[name]!.inFlight -= 1 } }
            return try await self.respond(name, call: call)
        }
        return router
    }

    private func respond(_ name: String, call: Int) async throws -> Response {
        if down.value.contains(name) { return Self.error(500, "upstream exploded") }
        switch name {
        case "flaky" where (call - 1) % 10 < 3: return Self.error(500, "flaky")  // 30% of calls
        case "busy" where call == 1: return Self.error(429, "slow down", headers: [.retryAfter: "1"])
        // Retry-After values that once reached `Int64(seconds * 1000)` unchecked and trapped.
        case "huge" where call == 1: return Self.error(429, "slow down", headers: [.retryAfter: "1e300"])
        case "huge" where call == 2: return Self.error(429, "slow down", headers: [.retryAfter: "inf"])
        case "huge" where call == 3: return Self.error(503, "slow down", headers: [.retryAfter: "-5"])
        case "denied": return Self.error(401, "invalid api key")
        case "bad": return Self.error(400, "messages: field required")
        case "small": return Self.error(400, "This model's maximum context length is 4096 tokens (context_length_exceeded)")
        case "slow": try await Task.sleep(for: .milliseconds(150))
        case "stall": try await Task.sleep(for: .seconds(30))
        default: break
        }
        let body = #"{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"from \#(name)"},"finish_reason":"stop"}]}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func error(_ status: Int, _ message: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = #"{"error":{"message":"\#(message)","type":"x"}}"#
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct ChatRouterTests {
    private static let logger = Logger(label: "router-test")

    /// Runs the scripted upstream and hands `body` a factory of routes to its endpoints.
    private func withUpstream(
        _ body: @escaping @Sendable (ScriptedUpstream, @escaping @Sendable (String, String) -> ChatRoute) async throws -> Void
    ) async throws {
        let upstream = ScriptedUpstream()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: upstream.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? -1)
                continuation.finish()
            },
            logger: Self.logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Self.logger))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome: Result<Void, any Error> = await {
            do {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {
                        defer { continuation.finish() }
                        try await group.run()
                    }
                    defer { tasks.cancelAll() }
                    var iterator = ports.makeAsyncIterator()
                    let port = try #require(await iterator.next())
                    let ran: Result<Void, any Error>
                    do {
                        try await body(upstream) { name, model in
                            ChatRoute(
                                provider: OpenAICompatibleProvider(
                                    configuration: .init(
                                        name: name, baseURL: "http://127.0.0.1:\(port)/\(name)/v1", apiKey: "k", models: [model],
                                        timeout: .seconds(2)),
                                    client: client, logger: Self.logger),
                                model: model, retryAttempts: 0)
                        }
                        ran = .success(())
                    } catch {
                        ran = .failure(error)
                    }
                    // The client's connections close before the server stops, so the server's
                    // graceful shutdown never waits on a kept-alive connection.
                    try await client.shutdown()
                    try ran.get()
                }
                return .success(())
            } catch {
                try? await client.shutdown()  // not shut down yet when the server failed to start
                return .failure(error)
            }
        }()
        try outcome.get()
    }

    private func request(_ model: String = "m") -> ChatRequest {
        ChatRequest(model: model, messages: [ChatMessage(role: .user, content: "hi")])
    }

    @Test func everyTurnIsAnsweredWhileOneProviderFailsThirtyPercent() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            let router = ChatRouter(
                routes: [route("flaky", "m"), route("healthy", "m")],
                settings: .init(strategy: .priority, breaker: .init(failureThreshold: 50)), logger: Self.logger)
            var answered = 0
            for _ in 0..<300 {
                let routed = try await router.complete(request())
                if routed.completion.content.hasPrefix("from ") { answered += 1 }
            }
            #expect(answered == 300)
            #expect(upstream.calls("flaky") == 300)
            #expect(upstream.calls("healthy") == 90)  // exactly the 30% that failed
        }
    }

    @Test func retriesOnTheSameRouteWithBackoffBeforeFallingBack() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var flaky = route("flaky", "m")
            flaky.retryAttempts = 2
            let router = ChatRouter(
                routes: [flaky, route("healthy", "m")], settings: .init(strategy: .priority, backoff: .milliseconds(10)), logger: Self.logger)
            let routed = try await router.complete(request())  // calls 1–3 of flaky fail
            #expect(routed.route == "healthy/m")
            #expect(routed.attempts == 4)
            #expect(upstream.calls("flaky") == 3)
        }
    }

    @Test func theBreakerOpensAtTheThresholdProbesAndCloses() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            upstream.down.withLock { _ = $0.insert("primary") }
            let router = ChatRouter(
                routes: [route("primary", "m"), route("healthy", "m")],
                settings: .init(strategy: .priority, breaker: .init(failureThreshold: 3, recoveryTimeout: .milliseconds(300), halfOpenMaxCalls: 1)),
                logger: Self.logger)
            for _ in 0..<10 { _ = try await router.complete(request()) }
            #expect(upstream.calls("primary") == 3)  // open after 3, then skipped
            #expect(router.health[0].breaker == "open")
            upstream.down.withLock { _ = $0.remove("primary") }
            try await Task.sleep(for: .milliseconds(350))
            #expect(router.health[0].breaker == "half_open")
            #expect(try await router.complete(request()).route == "primary/m")  // the probe
            #expect(router.health[0].breaker == "closed")
            #expect(try await router.complete(request()).route == "primary/m")
        }
    }

    @Test func theConcurrencyCapIsNeverExceeded() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var slow = route("slow", "m")
            slow.maxConcurrent = 2
            let router = ChatRouter(
                routes: [slow, route("healthy", "m")], settings: .init(strategy: .priority, concurrencyWait: .milliseconds(50)),
                logger: Self.logger)
            let routes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await router.complete(request()).route } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(routes.count == 20)
            #expect(upstream.peak("slow") <= 2)
            #expect(upstream.peak("slow") == 2)
            #expect(routes.contains("healthy/m"))  // those that could not wait went on
        }
    }

    @Test func aBadRequestIsNeitherRetriedNorCounted() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var bad = route("bad", "m")
            bad.retryAttempts = 3
            let router = ChatRouter(
                routes: [bad, route("healthy", "m")], settings: .init(strategy: .priority, breaker: .init(failureThreshold: 1)), logger: Self.logger)
            await #expect(throws: ChatProviderError.self) { _ = try await router.complete(request()) }
            #expect(upstream.calls("bad") == 1)
            #expect(upstream.calls("healthy") == 0)
            #expect(router.health[0].breaker == "closed")
            #expect(router.health[0].statistics.failures == 0)
        }
    }

    @Test func refusedCredentialsTakeTheProviderOutOfRotation() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            let router = ChatRouter(routes: [route("denied", "m"), route("healthy", "m")], settings: .init(strategy: .priority), logger: Self.logger)
            for _ in 0..<3 { #expect(try await router.complete(request()).route == "healthy/m") }
            #expect(upstream.calls("denied") == 1)
            #expect(router.health[0].disabled)
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var busy = route("busy", "m")
            busy.retryAttempts = 1
            let router = ChatRouter(routes: [busy], settings: .init(strategy: .priority), logger: Self.logger)
            let started = ContinuousClock.now
            #expect(try await router.complete(request()).route == "busy/m")
            #expect(ContinuousClock.now - started >= .seconds(1))
            #expect(upstream.calls("busy") == 2)
        }
    }

    @Test func anOutOfRangeRetryAfterIsBoundedNotATrap() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var huge = route("huge", "m")
            huge.retryAttempts = 3
            let router = ChatRouter(
                routes: [huge], settings: .init(strategy: .priority, backoff: .milliseconds(10), maxRetryAfter: .milliseconds(50)), logger: Self.logger)
            #expect(try await router.complete(request()).route == "huge/m")
            #expect(upstream.calls("huge") == 4)
        }
    }

    @Test func aContextLengthErrorMovesToALargerWindow() async throws {
        try await withUpstream { (upstream: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            var small = route("small", "m")
            small.contextWindow = 4096
            var tiny = route("tiny", "t")
            tiny.contextWindow = 2048
            var large = route("large", "l")
            large.contextWindow = 128_000
            let router = ChatRouter(routes: [small, tiny, large], settings: .init(strategy: .priority), logger: Self.logger)
            #expect(try await router.complete(request()).route == "large/l")
            #expect(upstream.calls("tiny") == 0)  // no bigger than the one that overflowed
        }
    }

    @Test func theTurnDeadlineCutsAStall() async throws {
        try await withUpstream { (_: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            let router = ChatRouter(routes: [route("stall", "m")], settings: .init(strategy: .priority, deadline: .milliseconds(300)), logger: Self.logger)
            let started = ContinuousClock.now
            await #expect(throws: ChatProviderError.self) { _ = try await router.complete(request()) }
            #expect(ContinuousClock.now - started < .seconds(10), "the stall lasts 30 s")
        }
    }

    @Test func routesForTheRequestedModelComeFirst() async throws {
        try await withUpstream { (_: ScriptedUpstream, route: @escaping @Sendable (String, String) -> ChatRoute) async throws in
            let router = ChatRouter(
                routes: [route("a", "other"), route("b", "wanted"), route("c", "wanted")], settings: .init(strategy: .priority),
                logger: Self.logger)
            #expect(router.candidates(for: "wanted") == [1, 2, 0])
            #expect(try await router.complete(request("wanted")).route == "b/wanted")
        }
    }
}
