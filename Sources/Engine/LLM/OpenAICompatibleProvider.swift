// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A chat provider speaking the OpenAI `POST /chat/completions` protocol: OpenAI itself, DeepSeek,
/// Ollama, vLLM, LiteLLM, llama.cpp's server and most others.
///
/// Requests go through a shared `HTTPClient` (keep-alive pool); each has a total deadline, and the
/// client's connect and read timeouts bound the pieces. Streaming parses server-sent events
/// incrementally, ignoring keep-alive comments.
public struct OpenAICompatibleProvider: ChatProvider {
    /// How to reach the provider.
    public struct Configuration: Sendable {
        public var name: String
        /// Base URL up to and including the version, e.g. `https://api.deepseek.com/v1`.
        public var baseURL: String
        public var apiKey: String?
        public var models: [String]
        /// Total deadline of one request, including the whole streamed body.
        public var timeout: Duration
        /// Largest response body accepted.
        public var maxResponseBytes: Int

        public init(
            name: String, baseURL: String, apiKey: String?, models: [String], timeout: Duration = .seconds(25),
            maxResponseBytes: Int = 8 << 20
        ) {
            self.name = name
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.models = models
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger

    public var name: String { configuration.name }
    public var models: [String] { configuration.models }

    public init(configuration: Configuration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    // MARK: Requests

    public func complete(_ request: ChatRequest, deadline: ContinuousClock.Instant?) async throws -> ChatCompletion {
        let deadline = self.deadline(within: deadline)
        let response = try await send(request, stream: false, deadline: deadline)
        return try await reading(until: deadline) { try await completion(from: response, for: request) }
    }

    public func stream(
        _ request: ChatRequest, deadline: ContinuousClock.Instant?, onDelta: @Sendable (ChatDelta) async throws -> Void
    ) async throws -> ChatCompletion {
        let deadline = self.deadline(within: deadline)
        let response = try await send(request, stream: true, deadline: deadline)
        // The body is read in a task that ends before this function returns.
        return try await withoutActuallyEscaping(onDelta) { onDelta in
            try await reading(until: deadline) { try await streamedCompletion(from: response, for: request, onDelta: onDelta) }
        }
    }

    /// The request's deadline: the provider's timeout from now, or the caller's deadline when that
    /// comes first.
    private func deadline(within callers: ContinuousClock.Instant?) -> Deadline {
        let own = ContinuousClock.now + configuration.timeout
        guard let callers, callers < own else {
            return Deadline(instant: own, reason: "\(configuration.name): no complete answer within \(configuration.timeout)")
        }
        return Deadline(instant: callers, reason: "\(configuration.name): the turn's deadline passed")
    }

    /// When a request must have ended, and what its timeout error says.
    private struct Deadline {
        let instant: ContinuousClock.Instant
        let reason: String
    }

    private func completion(from response: HTTPClientResponse, for request: ChatRequest) async throws -> ChatCompletion {
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch {
            throw map(error)
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body.readableBytesView)
        } catch {
            throw ChatProviderError.malformed("response is not JSON (\(error.reason))")
        }
        guard let choice = json["choices"]?.arrayValue?.first else {
            throw ChatProviderError.malformed("response has no choices")
        }
        let content = choice["message"]?["content"]?.stringValue ?? ""
        return ChatCompletion(
            content: content,
            model: json["model"]?.stringValue ?? request.model,
            finishReason: choice["finish_reason"]?.stringValue,
            usage: TokenUsage(json: json["usage"])
        )
    }

    private func streamedCompletion(
        from response: HTTPClientResponse, for request: ChatRequest, onDelta: @escaping @Sendable (ChatDelta) async throws -> Void
    ) async throws -> ChatCompletion {
        // Errors of the caller's callback pass through as they are, not as provider failures.
        let emit: @Sendable (ChatDelta) async throws -> Void = { delta in
            do { try await onDelta(delta) } catch { throw CallbackError(error: error) }
        }
        var parser = ServerSentEventParser()
        var content = ""
        var finishReason: String?
        var usage: TokenUsage?
        var model = request.model
        var done = false
        do {
            reading: for try await chunk in response.body {
                for event in try parser.feed(chunk.readableBytesView) {
                    if event.data == "[DONE]" {
                        done = true
                        break reading
                    }
                    let json: JSONValue
                    do {
                        json = try JSONValue(parsing: event.data)
                    } catch {
                        throw ChatProviderError.malformed("stream event is not JSON (\(error.reason))")
                    }
                    if let error = json["error"], !error.isNull {
                        throw ChatProviderError(
                            kind: .httpStatus, status: 500, message: error["message"]?.stringValue ?? "error in stream")
                    }
                    if let name = json["model"]?.stringValue { model = name }
                    if let reported = TokenUsage(json: json["usage"]) {
                        usage = reported
                        try await emit(.usage(reported))
                    }
                    guard let choice = json["choices"]?.arrayValue?.first else { continue }
                    if let text = choice["delta"]?["content"]?.stringValue, !text.isEmpty {
                        content += text
                        try await emit(.content(text))
                    }
                    if let reason = choice["finish_reason"]?.stringValue {
                        finishReason = reason
                        try await emit(.finish(reason: reason))
                    }
                }
            }
        } catch let error as ChatProviderError {
            throw error
        } catch let failure as CallbackError {
            throw failure.error
        } catch is ServerSentEventParser.LineTooLong {
            throw ChatProviderError.malformed("stream line too long")
        } catch {
            if error is CancellationError { throw error }
            throw map(error)
        }
        guard done || finishReason != nil else {
            throw ChatProviderError.transport("stream ended before it finished")
        }
        return ChatCompletion(content: content, model: model, finishReason: finishReason, usage: usage)
    }

    // MARK: Internals

    /// Wraps an error thrown by the `onDelta` callback of ``stream(_:onDelta:)``.
    private struct CallbackError: Error {
        let error: any Error
    }

    /// Runs `operation`, which reads a response body, under the request's total deadline.
    /// `HTTPClient`'s own deadline stops at the response head; a body that stalls after it would
    /// otherwise hold the request forever.
    private func reading<T: Sendable>(until deadline: Deadline, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = ChatProviderError.timeout(deadline.reason)
        return try await withDeadline(deadline.instant, expired: { timeout }, operation)
    }

    private func send(_ request: ChatRequest, stream: Bool, deadline: Deadline) async throws -> HTTPClientResponse {
        let body = Self.requestBody(request, stream: stream)

        var httpRequest = HTTPClientRequest(url: Self.join(configuration.baseURL, "chat/completions"))
        httpRequest.method = .POST
        httpRequest.headers.add(name: "Content-Type", value: "application/json")
        httpRequest.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
        if let apiKey = configuration.apiKey, !apiKey.isEmpty {
            httpRequest.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        }
        httpRequest.body = .bytes(ByteBuffer(bytes: body))

        let response: HTTPClientResponse
        do {
            let remaining = deadline.instant - ContinuousClock.now
            guard remaining > .zero else { throw ChatProviderError.timeout(deadline.reason) }
            response = try await client.execute(httpRequest, timeout: .init(remaining))
        } catch {
            if error is CancellationError { throw error }
            if (error as? HTTPClientError) == .deadlineExceeded, deadline.instant <= ContinuousClock.now {
                throw ChatProviderError.timeout(deadline.reason)
            }
            throw map(error)
        }
        guard (200..<300).contains(response.status.code) else {
            let detail = (try? await reading(until: deadline) { try await response.body.collect(upTo: 64 << 10) })
                .map { Self.errorMessage(from: $0) } ?? ""
            throw ChatProviderError(
                kind: .httpStatus, status: Int(response.status.code),
                retryAfter: RetryAfter.seconds(fromHeader: response.headers.first(name: "Retry-After")),
                message: detail.isEmpty ? response.status.reasonPhrase : detail)
        }
        return response
    }

    private func map(_ error: any Error) -> ChatProviderError {
        if let error = error as? ChatProviderError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return .timeout("\(configuration.name): \(error)")
            case .bodyLengthMismatch, .remoteConnectionClosed, .cancelled:
                return .transport("\(configuration.name): \(error)")
            default:
                break
            }
            if "\(error)".contains("responseBodyTooBig") || "\(error)".contains("TooBig") {
                return .malformed("\(configuration.name): response too large")
            }
        }
        if error is NIOTooManyBytesError { return .malformed("\(configuration.name): response too large") }
        return .transport("\(configuration.name): \(error)")
    }

    /// The JSON body of a chat completion request, written straight to bytes: this runs for every
    /// turn with the whole history, so it builds no intermediate values and sorts nothing.
    static func requestBody(_ request: ChatRequest, stream: Bool) -> [UInt8] {
        var body = [UInt8]()
        body.reserveCapacity(128 + request.messages.reduce(0) { $0 + $1.content.utf8.count + 32 })
        body.append(contentsOf: #"{"model":"#.utf8)
        JSONValue.writeString(request.model, into: &body)
        body.append(contentsOf: #","messages":["#.utf8)
        for (index, message) in request.messages.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: #"{"role":""#.utf8)
            body.append(contentsOf: message.role.rawValue.utf8)
            body.append(contentsOf: #"","content":"#.utf8)
            JSONValue.writeString(message.content, into: &body)
            body.append(UInt8(ascii: "}"))
        }
        body.append(UInt8(ascii: "]"))
        if let maxTokens = request.maxTokens { body.append(contentsOf: #","max_tokens":\#(maxTokens)"#.utf8) }
        if let temperature = request.temperature, temperature.isFinite {
            body.append(contentsOf: #","temperature":\#(temperature)"#.utf8)
        }
        if let topP = request.topP, topP.isFinite {
            body.append(contentsOf: #","top_p":\#(topP)"#.utf8)
        }
        if stream { body.append(contentsOf: #","stream":true,"stream_options":{"include_usage":true}"#.utf8) }
        body.append(UInt8(ascii: "}"))
        return body
    }

    static func errorMessage(from body: ByteBuffer) -> String {
        if let json = try? JSONValue(parsing: body.readableBytesView) {
            if let message = json["error"]?["message"]?.stringValue { return message }
            if let message = json["error"]?.stringValue { return message }
            if let message = json["message"]?.stringValue { return message }
        }
        return String(String(buffer: body).prefix(200))
    }

    static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? base + path : base + "/" + path
    }
}
