// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Engine

/// What the stub upstream saw of one request.
private struct RecordedRequest: Sendable {
    var path: String
    var authorization: String?
    var accept: String?
    var contentType: String?
    var body: JSONValue?
}

/// A stub OpenAI-compatible upstream on a loopback port. The first path component picks the
/// behaviour: `/<behaviour>/v1/chat/completions`.
private final class StubUpstream: Sendable {
    let requests = Locked<[RecordedRequest]>([])

    private static let completion = """
        {"id":"chatcmpl-1","object":"chat.completion","model":"deepseek-chat-0601",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}
        """

    /// A well-formed stream, cut into pieces that split lines and events, with keep-alives.
    static let streamPieces = [
        ": keep-alive\n\n",
        #"data: {"model":"m-stream","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}],"usage":null}"# + "\n\n",
        #"data: {"choices":[{"index":0,"delta":{"con"#,
        #"tent":"Hel"}}]}"# + "\n",
        "\n: keep-alive\r\n\r\n",
        #"data: {"choices":[{"index":0,"delta":{"content":"lo, 世界"}}]}"# + "\r\n\r",
        "\n",
        #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n",
        #"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"# + "\n\n",
        "data: [DONE]\n\n",
    ]

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/:behaviour/v1/chat/completions") { request, context in
            let behaviour = try context.parameters.require("behaviour")
            let body = try await request.body.collect(upTo: 1 << 20)
            let recorded = RecordedRequest(
                path: request.uri.path, authorization: request.headers[.authorization], accept: request.headers[.accept],
                contentType: request.headers[.contentType], body: try? JSONValue(parsing: body.readableBytesView))
            self.requests.withLock { $0.append(recorded) }
            return try await Self.respond(behaviour)
        }
        return router
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func events(_ pieces: [String], stallAfter: Bool = false) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                for piece in pieces { try await writer.write(ByteBuffer(string: piece)) }
                if stallAfter { try await Task.sleep(for: .seconds(30)) }
                try await writer.finish(nil)
            })
    }

    private static func respond(_ behaviour: String) async throws -> Response {
        switch behaviour {
        case "ok":
            return json(completion)
        case "stream":
            return events(streamPieces)
        case "hugeusage":
            return json(
                #"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"#
                    + #""usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807,"total_tokens":-2}}"#)
        case "negativeusage":
            return json(
                #"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"#
                    + #""usage":{"prompt_tokens":-9223372036854775808,"completion_tokens":-1}}"#)
        case "error500":
            return json(
                #"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
                status: .internalServerError)
        case "ratelimited":
            return json(
                #"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
                status: .tooManyRequests, headers: [.retryAfter: "7"])
        case "ratelimitedmark":
            // A combining mark after the weekday: DateFormatter trapped on it (a fuzz finding).
            return json(
                #"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
                status: .tooManyRequests, headers: [.retryAfter: "Wed\u{301}, 21 Oct 2015 07:28:00 GMT"])
        case "badgateway":
            return Response(status: .badGateway, body: .init(byteBuffer: ByteBuffer(string: "upstream connect error")))
        case "unavailable":
            return Response(status: .serviceUnavailable)
        case "stall":
            try await Task.sleep(for: .seconds(30))
            return json(completion)
        case "stallbody":
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"choices":["#))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                })
        case "stallerror":
            return Response(
                status: .internalServerError,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"error":"#))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                })
        case "stallstream":
            return events([#"data: {"choices":[{"delta":{"content":"thinking"}}]}"# + "\n\n"], stallAfter: true)
        case "malformed":
            return json("<html>not json</html>")
        case "nochoices":
            return json(#"{"object":"chat.completion","choices":[]}"#)
        case "badevent":
            return events([#"data: {"choices":[{"delta":{"content":"ok"}}]}"# + "\n\n", "data: {oops\n\n"])
        case "truncated":
            return events([": keep-alive\n\n", #"data: {"choices":[{"delta":{"content":"partial"}}]}"# + "\n\n"])
        case "finishnodone":
            return events([#"data: {"choices":[{"delta":{"content":"done"},"finish_reason":"length"}]}"# + "\n\n"])
        case "streamerror":
            return events([#"data: {"error":{"message":"model overloaded","type":"server_error"}}"# + "\n\n"])
        case "big":
            return json(#"{"choices":[{"message":{"content":""# + String(repeating: "x", count: 10_000) + #""}}]}"#)
        default:
            return Response(status: .notFound)
        }
    }
}

private struct ReaderGone: Error, Equatable {}

@Suite(.serialized) struct OpenAICompatibleProviderTests {
    static let request = ChatRequest(
        model: "deepseek-chat", messages: [.init(role: .system, content: "be brief"), .init(role: .user, content: "hi 你好")],
        maxTokens: 64, temperature: 0.5)

    /// Runs `body` with a stub upstream listening on 127.0.0.1 and a fresh `HTTPClient`.
    private func withUpstream<T: Sendable>(
        _ body: @Sendable (_ upstream: StubUpstream, _ port: Int, _ client: HTTPClient) async throws -> T
    ) async throws -> T {
        let upstream = StubUpstream()
        return try await withLoopbackServer(upstream.router()) { port, client in try await body(upstream, port, client) }
    }

    private func makeProvider(
        _ client: HTTPClient, port: Int, behaviour: String, apiKey: String? = "sk-test", timeout: Duration = .seconds(5),
        maxResponseBytes: Int = 1 << 20
    ) -> OpenAICompatibleProvider {
        OpenAICompatibleProvider(
            configuration: .init(
                name: "stub", baseURL: "http://127.0.0.1:\(port)/\(behaviour)/v1", apiKey: apiKey, models: ["deepseek-chat"],
                timeout: timeout, maxResponseBytes: maxResponseBytes),
            client: client, logger: Logger(label: "provider-test"))
    }

    /// The `ChatProviderError` thrown by `operation`, recording an issue when it throws anything else.
    private func providerError(
        _ operation: () async throws -> ChatCompletion, sourceLocation: SourceLocation = #_sourceLocation
    ) async -> ChatProviderError? {
        do {
            let completion = try await operation()
            Issue.record("expected an error, got \(completion)", sourceLocation: sourceLocation)
            return nil
        } catch let error as ChatProviderError {
            return error
        } catch {
            Issue.record("expected a ChatProviderError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Success

    /// An upstream's token counts are numbers from outside: Int64.max twice once overflowed the
    /// router's cost sum and killed the hub. They are clamped; the answer and its record go through.
    @Test(arguments: ["hugeusage", "negativeusage"])
    func outOfRangeUsageIsClampedNotATrap(behaviour: String) async throws {
        try await withUpstream { _, port, client in
            let records = Locked<[UsageRecord]>([])
            let router = ChatRouter(
                routes: [ChatRoute(provider: makeProvider(client, port: port, behaviour: behaviour), model: "deepseek-chat", costPer1kTokens: 2, retryAttempts: 0)],
                settings: .init(strategy: .priority), logger: Logger(label: "router-test"), onAttempt: { record in records.withLock { $0.append(record) } })
            let routed = try await router.complete(Self.request)
            let usage = try #require(routed.completion.usage)
            #expect((0...TokenUsage.largest).contains(usage.promptTokens))
            #expect((0...TokenUsage.largest).contains(usage.completionTokens))
            #expect(usage.totalTokens == usage.promptTokens + usage.completionTokens)
            let record = try #require(records.value.first)
            #expect(record.cost.isFinite && record.cost >= 0)
        }
    }

    @Test func completeReturnsContentModelAndUsage() async throws {
        try await withUpstream { upstream, port, client in
            let completion = try await makeProvider(client, port: port, behaviour: "ok").complete(Self.request)
            #expect(
                completion
                    == ChatCompletion(
                        content: "Hello there!", model: "deepseek-chat-0601", finishReason: "stop",
                        usage: TokenUsage(promptTokens: 12, completionTokens: 3)))
            #expect(completion.usage?.totalTokens == 15)

            let sent = try #require(upstream.requests.value.first)
            #expect(sent.path == "/ok/v1/chat/completions")
            #expect(sent.authorization == "Bearer sk-test")
            #expect(sent.accept == "application/json")
            #expect(sent.contentType == "application/json")
            let expected: JSONValue = [
                "model": "deepseek-chat",
                "messages": [["role": "system", "content": "be brief"], ["role": "user", "content": "hi 你好"]],
                "max_tokens": 64, "temperature": .double(0.5),
            ]
            #expect(sent.body == expected)
        }
    }

    @Test func noAuthorizationHeaderWithoutAKey() async throws {
        try await withUpstream { upstream, port, client in
            _ = try await makeProvider(client, port: port, behaviour: "ok", apiKey: nil).complete(Self.request)
            _ = try await makeProvider(client, port: port, behaviour: "ok", apiKey: "").complete(ChatRequest(model: "m", messages: []))
            let sent = upstream.requests.value
            #expect(sent.count == 2)
            #expect(sent.allSatisfy { $0.authorization == nil })
            // Optional fields are left out when not set.
            let minimal: JSONValue = ["model": "m", "messages": []]
            #expect(sent.last?.body == minimal)
        }
    }

    @Test func baseURLWithTrailingSlash() async throws {
        try await withUpstream { upstream, port, client in
            let provider = OpenAICompatibleProvider(
                configuration: .init(name: "slash", baseURL: "http://127.0.0.1:\(port)/ok/v1/", apiKey: nil, models: []),
                client: client, logger: Logger(label: "provider-test"))
            let completion = try await provider.complete(Self.request)
            #expect(completion.content == "Hello there!")
            #expect(upstream.requests.value.first?.path == "/ok/v1/chat/completions")
        }
    }

    @Test func streamDeliversDeltasInOrder() async throws {
        try await withUpstream { upstream, port, client in
            let deltas = Locked<[ChatDelta]>([])
            let completion = try await makeProvider(client, port: port, behaviour: "stream").stream(Self.request) { delta in
                deltas.withLock { $0.append(delta) }
            }
            #expect(
                deltas.value == [
                    .content("Hel"), .content("lo, 世界"), .finish(reason: "stop"),
                    .usage(TokenUsage(promptTokens: 9, completionTokens: 4)),
                ])
            #expect(
                completion
                    == ChatCompletion(
                        content: "Hello, 世界", model: "m-stream", finishReason: "stop", usage: TokenUsage(promptTokens: 9, completionTokens: 4)))

            let sent = try #require(upstream.requests.value.first)
            #expect(sent.authorization == "Bearer sk-test")
            #expect(sent.accept == "text/event-stream")
            #expect(sent.body?["stream"] == true)
            #expect(sent.body?["stream_options"]?["include_usage"] == true)
            #expect(sent.body?["messages"]?.arrayValue?.count == 2)
        }
    }

    @Test func streamWithFinishReasonButNoDoneSucceeds() async throws {
        try await withUpstream { _, port, client in
            let completion = try await makeProvider(client, port: port, behaviour: "finishnodone").stream(Self.request) { _ in }
            #expect(completion == ChatCompletion(content: "done", model: "deepseek-chat", finishReason: "length"))
        }
    }

    // MARK: Upstream errors

    @Test func serverErrorCarriesTheUpstreamMessage() async throws {
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "error500")
            for error in [
                await providerError { try await provider.complete(Self.request) },
                await providerError { try await provider.stream(Self.request) { _ in } },
            ] {
                #expect(error?.kind == .httpStatus)
                #expect(error?.status == 500)
                #expect(error?.retryAfter == nil)
                #expect(error?.message == "The server had an error while processing your request.")
            }
        }
    }

    @Test func rateLimitCarriesRetryAfter() async throws {
        try await withUpstream { _, port, client in
            let error = await providerError { try await makeProvider(client, port: port, behaviour: "ratelimited").complete(Self.request) }
            #expect(error?.kind == .httpStatus)
            #expect(error?.status == 429)
            #expect(error?.retryAfter == 7)
            #expect(error?.message == "Rate limit reached for requests")
            #expect(error?.description == "httpStatus 429: Rate limit reached for requests")
        }
    }

    /// An upstream's `Retry-After` that is not an HTTP date is ignored, whatever its bytes; a
    /// combining mark in it used to crash the hub (Foundation's DateFormatter traps on it).
    @Test func aRetryAfterWithACombiningMarkIsIgnored() async throws {
        try await withUpstream { _, port, client in
            let error = await providerError { try await makeProvider(client, port: port, behaviour: "ratelimitedmark").complete(Self.request) }
            #expect(error?.status == 429)
            #expect(error?.retryAfter == nil)
        }
    }

    @Test func errorWithoutJSONBody() async throws {
        try await withUpstream { _, port, client in
            let gateway = await providerError { try await makeProvider(client, port: port, behaviour: "badgateway").complete(Self.request) }
            #expect(gateway?.status == 502)
            #expect(gateway?.message == "upstream connect error")
            let unavailable = await providerError { try await makeProvider(client, port: port, behaviour: "unavailable").complete(Self.request) }
            #expect(unavailable?.status == 503)
            #expect(unavailable?.message == "Service Unavailable")
        }
    }

    @Test func errorEventInsideTheStream() async throws {
        try await withUpstream { _, port, client in
            let error = await providerError { try await makeProvider(client, port: port, behaviour: "streamerror").stream(Self.request) { _ in } }
            #expect(error?.kind == .httpStatus)
            #expect(error?.status == 500)
            #expect(error?.message == "model overloaded")
        }
    }

    // MARK: Malformed answers

    @Test func malformedJSON() async throws {
        try await withUpstream { _, port, client in
            let notJSON = await providerError { try await makeProvider(client, port: port, behaviour: "malformed").complete(Self.request) }
            #expect(notJSON?.kind == .malformedResponse)
            #expect(notJSON?.message.hasPrefix("response is not JSON") == true)
            let noChoices = await providerError { try await makeProvider(client, port: port, behaviour: "nochoices").complete(Self.request) }
            #expect(noChoices?.kind == .malformedResponse)
            #expect(noChoices?.message == "response has no choices")
        }
    }

    @Test func malformedStreamEvent() async throws {
        try await withUpstream { _, port, client in
            let deltas = Locked<[ChatDelta]>([])
            let error = await providerError {
                try await makeProvider(client, port: port, behaviour: "badevent").stream(Self.request) { delta in deltas.withLock { $0.append(delta) }
                }
            }
            #expect(error?.kind == .malformedResponse)
            #expect(deltas.value == [.content("ok")])
        }
    }

    @Test func responseTooLarge() async throws {
        try await withUpstream { _, port, client in
            let error = await providerError {
                try await makeProvider(client, port: port, behaviour: "big", maxResponseBytes: 1000).complete(Self.request)
            }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.message.contains("too large") == true)
        }
    }

    @Test func streamThatEndsBeforeItFinished() async throws {
        try await withUpstream { _, port, client in
            let deltas = Locked<[ChatDelta]>([])
            let error = await providerError {
                try await makeProvider(client, port: port, behaviour: "truncated").stream(Self.request) { delta in
                    deltas.withLock { $0.append(delta) }
                }
            }
            #expect(error?.kind == .transport)
            #expect(error?.message == "stream ended before it finished")
            #expect(deltas.value == [.content("partial")])
        }
    }

    // MARK: Time

    @Test func stallBeforeTheAnswerTimesOut() async throws {
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stall", timeout: .milliseconds(500))
            let started = ContinuousClock.now
            let error = try await withTimeLimit(.seconds(5)) {
                await providerError { try await provider.complete(Self.request) }
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test func stallInTheMiddleOfAStreamTimesOut() async throws {
        // The timeout is the total deadline of the request, "including the whole streamed body".
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stallstream", timeout: .milliseconds(500))
            let deltas = Locked<[ChatDelta]>([])
            let result = await outcome {
                try await withTimeLimit(.seconds(3)) {
                    try await provider.stream(Self.request) { delta in deltas.withLock { $0.append(delta) } }
                }
            }
            #expect(deltas.value == [.content("thinking")])
            switch result {
            case .success(let completion): Issue.record("expected a timeout, got \(completion)")
            case .failure(let error as ChatProviderError): #expect(error.kind == .timeout)
            case .failure(let error): Issue.record("expected a ChatProviderError timeout, got \(error)")
            }
        }
    }

    @Test func stallInTheMiddleOfABodyTimesOut() async throws {
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stallbody", timeout: .milliseconds(500))
            let result = await outcome { try await withTimeLimit(.seconds(3)) { try await provider.complete(Self.request) } }
            switch result {
            case .success(let completion): Issue.record("expected a timeout, got \(completion)")
            case .failure(let error as ChatProviderError): #expect(error.kind == .timeout)
            case .failure(let error): Issue.record("expected a ChatProviderError timeout, got \(error)")
            }
        }
    }

    @Test func errorStatusWithAStalledBodyStillAnswersInTime() async throws {
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stallerror", timeout: .milliseconds(500))
            let error = try await withTimeLimit(.seconds(3)) { await providerError { try await provider.complete(Self.request) } }
            #expect(error?.kind == .httpStatus)
            #expect(error?.status == 500)
            #expect(error?.message == "Internal Server Error")
        }
    }

    // MARK: Callers

    @Test func cancellationIsNotAProviderFailure() async throws {
        try await withUpstream { upstream, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stall", timeout: .seconds(20))
            let call = Task { try await provider.complete(Self.request) }
            let result = try await withTimeLimit(.seconds(5)) {
                // Cancel once the request is in flight, waiting for its answer.
                while upstream.requests.value.isEmpty { await Task.yield() }
                call.cancel()
                return await outcome { try await call.value }
            }
            switch result {
            case .success(let completion): Issue.record("expected cancellation, got \(completion)")
            case .failure(let error): #expect(error is CancellationError, "got \(error)")
            }
        }
    }

    @Test func errorFromTheDeltaCallbackPassesThrough() async throws {
        try await withUpstream { _, port, client in
            let provider = makeProvider(client, port: port, behaviour: "stream")
            await #expect(throws: ReaderGone()) {
                try await provider.stream(Self.request) { _ in throw ReaderGone() }
            }
        }
    }

    @Test func connectionRefusedIsATransportError() async throws {
        // A port that was just listening and is closed now.
        let port = try await withUpstream { _, port, _ in port }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let provider = makeProvider(client, port: port, behaviour: "ok", timeout: .seconds(2))
        let error = try await withTimeLimit(.seconds(5)) { await providerError { try await provider.complete(Self.request) } }
        try await client.shutdown()
        #expect(error?.kind == .transport)
    }
}

/// The result of `body`, success or error.
private func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
