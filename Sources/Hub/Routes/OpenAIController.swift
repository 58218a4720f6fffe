// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import NIOCore

/// The OpenAI-compatible API over the router: `POST /v1/chat/completions` (whole or streamed as
/// SSE, exactly as OpenAI sends it) and `GET /v1/models`. Errors have OpenAI's shape
/// `{"error":{"message","type","param","code"}}` and status.
struct OpenAIController: Sendable {
    let router: ChatRouter
    let models: ChatModels
    let responseCache: ResponseCache?
    /// `gateway.api_keys`; empty: open.
    let apiKeys: [String]
    let maxBodyBytes: Int

    func addRoutes(to router: Router<HubRequestContext>) {
        router.get("/v1/models") { request, _ in
            if let refusal = authorize(request) { return refusal }
            let owners = Dictionary(self.models.providers.flatMap { provider in provider.models.map { ($0, provider.name) } }, uniquingKeysWith: { first, _ in first })
            let data: [JSONValue] = self.models.available.map { model in
                ["id": .string(model), "object": "model", "created": 0, "owned_by": .string(owners[model] ?? "hub")]
            }
            return Response.json(.ok, ["object": "list", "data": .array(data)])
        }
        router.post("/v1/chat/completions") { request, _ in
            if let refusal = authorize(request) { return refusal }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                return Self.error(.contentTooLarge, "request body larger than \(maxBodyBytes) bytes", type: "invalid_request_error")
            }
            let parsed: Parsed
            switch Self.parse(body) {
            case .success(let value): parsed = value
            case .failure(let problem): return Self.error(.badRequest, problem.message, type: "invalid_request_error", param: problem.param)
            }
            guard self.models.available.contains(parsed.request.model) else {
                return Self.error(
                    .notFound, "The model `\(parsed.request.model)` does not exist here. See GET /v1/models.", type: "invalid_request_error",
                    param: "model", code: "model_not_found")
            }
            return parsed.stream ? await streamed(parsed) : await whole(parsed)
        }
        // The seed's engine API: a prompt in, text out (`stream: true`: SSE of text pieces).
        router.post("/api/v1/llm/generate") { request, _ in
            if let refusal = authorize(request) { return refusal }
            guard let body = try? await request.body.collect(upTo: maxBodyBytes), let json = try? JSONValue(parsing: body.readableBytesView),
                json.objectValue != nil
            else { return Self.error(.badRequest, "The body must be a JSON object of at most \(maxBodyBytes) bytes.", type: "invalid_request_error") }
            guard let prompt = json["prompt"]?.stringValue, !prompt.isEmpty else {
                return Self.error(.badRequest, "`prompt` is required and must be a non-empty string.", type: "invalid_request_error", param: "prompt")
            }
            guard let model = json["model"]?.stringValue ?? self.models.defaultModel else {
                return Self.error(.serviceUnavailable, "No LLM provider is configured.", type: "api_error")
            }
            guard self.models.available.contains(model) else {
                return Self.error(.notFound, "The model `\(model)` does not exist here.", type: "invalid_request_error", param: "model", code: "model_not_found")
            }
            var messages = [ChatMessage]()
            if let system = json["system"]?.stringValue { messages.append(ChatMessage(role: .system, content: system)) }
            messages.append(ChatMessage(role: .user, content: prompt))
            var wrapped: [String: JSONValue] = ["model": .string(model), "messages": .array(messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })]
            for key in ["temperature", "max_tokens"] { wrapped[key] = json[key] }
            var bytes = [UInt8]()
            JSONValue.object(wrapped).write(into: &bytes)
            guard case .success(var parsed) = Self.parse(ByteBuffer(bytes: bytes)) else {
                return Self.error(.badRequest, "`temperature` must be 0…2 and `max_tokens` positive.", type: "invalid_request_error")
            }
            parsed.stream = json["stream"]?.boolValue ?? false
            return parsed.stream ? await streamedText(parsed) : await wholeText(parsed)
        }
    }

    private func wholeText(_ parsed: Parsed) async -> Response {
        do {
            let routed = try await router.complete(parsed.request)
            var body: [String: JSONValue] = ["text": .string(routed.completion.content), "model": .string(routed.model)]
            if let usage = routed.completion.usage { body["usage"] = usage.json }
            return Response.json(.ok, .object(body))
        } catch {
            return Self.failure(error)
        }
    }

    private func streamedText(_ parsed: Parsed) async -> Response {
        let stream: RoutedStream
        do {
            stream = try await RoutedStream.start(parsed.request, router: router)
        } catch {
            return Self.failure(error)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                func send(_ value: JSONValue) async throws { try await writer.write(Self.event(value)) }
                var model = parsed.request.model
                var usage: TokenUsage?
                do {
                    for try await (routeModel, delta) in stream.events {
                        model = routeModel
                        switch delta {
                        case .content(let text) where !text.isEmpty: try await send(["text": .string(text)])
                        case .usage(let reported): usage = reported
                        case .content, .finish: break
                        }
                    }
                    var done: [String: JSONValue] = ["done": true, "model": .string(model)]
                    if let usage { done["usage"] = usage.json }
                    try await send(.object(done))
                } catch {
                    stream.producer.cancel()
                    try? await send(Self.streamError(error))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            })
    }

    // MARK: Whole answers

    private func whole(_ parsed: Parsed) async -> Response {
        let completion: ChatCompletion
        let cacheEntry = ResponseCache.entry(for: parsed.request, in: responseCache)
        if let cached = await cacheEntry.lookup() {
            completion = cached
        } else {
            do {
                completion = try await router.complete(parsed.request).completion
            } catch {
                return Self.failure(error)
            }
            await cacheEntry.keep(completion)
        }
        var body: [String: JSONValue] = [
            "id": .string(Self.newID()), "object": "chat.completion", "created": .int(Int64(Date().timeIntervalSince1970)),
            "model": .string(completion.model.isEmpty ? parsed.request.model : completion.model),
            "choices": [
                [
                    "index": 0, "message": ["role": "assistant", "content": .string(completion.content)],
                    "finish_reason": .string(completion.finishReason ?? "stop"),
                ]
            ],
        ]
        if let usage = completion.usage { body["usage"] = usage.json }
        return Response.json(.ok, .object(body))
    }

    // MARK: Streams

    private func streamed(_ parsed: Parsed) async -> Response {
        let id = Self.newID()
        let created = Int64(Date().timeIntervalSince1970)
        let router = self.router
        let request = parsed.request
        let events: AsyncThrowingStream<(model: String, delta: ChatDelta), any Error>
        let producer: Task<Void, Never>?
        let cacheEntry = ResponseCache.entry(for: request, in: responseCache)
        if let cached = await cacheEntry.lookup() {
            // A finished answer from the cache, replayed as a stream; no upstream call.
            let model = cached.model.isEmpty ? request.model : cached.model
            let (replay, sink) = AsyncThrowingStream.makeStream(of: (model: String, delta: ChatDelta).self)
            sink.yield((model, .content(cached.content)))
            sink.yield((model, .finish(reason: cached.finishReason ?? "stop")))
            if let usage = cached.usage { sink.yield((model, .usage(usage))) }
            sink.finish()
            events = replay
            producer = nil
        } else {
            do {
                // Only a stream that finished is cached; stored before [DONE] goes out, so a client
                // that asks again at once finds it.
                let stream = try await RoutedStream.start(request, router: router) { routed in
                    await cacheEntry.keep(routed.completion)
                }
                events = stream.events
                producer = stream.producer
            } catch {
                // Every route failed before any text: a real error status.
                return Self.failure(error)
            }
        }
        let includeUsage = parsed.includeUsage
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var model = request.model
                func chunk(_ delta: JSONValue, finish: String? = nil) -> JSONValue {
                    var object: [String: JSONValue] = [
                        "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
                        "choices": [["index": 0, "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null]],
                    ]
                    if includeUsage { object["usage"] = .null }
                    return .object(object)
                }
                func send(_ value: JSONValue) async throws { try await writer.write(Self.event(value)) }
                do {
                    try await send(chunk(["role": "assistant", "content": ""]))
                    var usage: TokenUsage?
                    for try await (routeModel, delta) in events {
                        model = routeModel
                        switch delta {
                        case .content(let text): try await send(chunk(["content": .string(text)]))
                        case .finish(let reason): try await send(chunk([:], finish: reason))
                        case .usage(let reported): usage = reported
                        }
                    }
                    if includeUsage, let usage {
                        try await send([
                            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
                            "choices": [], "usage": usage.json,
                        ])
                    }
                } catch {
                    producer?.cancel()
                    // Headers are gone: the failure travels as an error event, as OpenAI does.
                    try? await send(Self.streamError(error))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            })
    }

    // MARK: Parsing

    struct Parsed: Sendable {
        var request: ChatRequest
        var stream: Bool
        var includeUsage: Bool
    }

    struct Problem: Error {
        var message: String
        var param: String?
    }

    static func parse(_ body: ByteBuffer) -> Result<Parsed, Problem> {
        guard let json = try? JSONValue(parsing: body.readableBytesView), json.objectValue != nil else {
            return .failure(Problem(message: "The body is not a JSON object.", param: nil))
        }
        guard let model = json["model"]?.stringValue, !model.isEmpty else {
            return .failure(Problem(message: "`model` is required and must be a string.", param: "model"))
        }
        guard let list = json["messages"]?.arrayValue, !list.isEmpty else {
            return .failure(Problem(message: "`messages` must be a non-empty array.", param: "messages"))
        }
        var messages = [ChatMessage]()
        for (index, item) in list.enumerated() {
            guard let roleText = item["role"]?.stringValue, let role = ChatMessage.Role(rawValue: roleText == "developer" ? "system" : roleText)
            else { return .failure(Problem(message: "messages[\(index)].role must be system, user or assistant.", param: "messages[\(index)].role")) }
            // Content is a string, or an array of parts of which the text parts are kept.
            let content: String
            if let text = item["content"]?.stringValue {
                content = text
            } else if let parts = item["content"]?.arrayValue {
                content = parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
            } else if item["content"] == .null, role == .assistant {
                content = ""
            } else {
                return .failure(Problem(message: "messages[\(index)].content must be a string or an array of parts.", param: "messages[\(index)].content"))
            }
            messages.append(ChatMessage(role: role, content: content))
        }
        let maxTokens = (json["max_completion_tokens"] ?? json["max_tokens"])?.int64Value.map { Int($0) }
        if let maxTokens, maxTokens <= 0 { return .failure(Problem(message: "`max_tokens` must be positive.", param: "max_tokens")) }
        var temperature: Double?
        if let value = json["temperature"], value != .null {
            let number: Double? =
                switch value {
                case .double(let number): number
                case .int(let number): Double(number)
                default: nil
                }
            guard let number, (0...2).contains(number) else {
                return .failure(Problem(message: "`temperature` must be a number between 0 and 2.", param: "temperature"))
            }
            temperature = number
        }
        let stream = json["stream"]?.boolValue ?? false
        let includeUsage = json["stream_options"]?["include_usage"]?.boolValue ?? false
        return .success(
            Parsed(
                request: ChatRequest(model: model, messages: messages, maxTokens: maxTokens, temperature: temperature), stream: stream,
                includeUsage: includeUsage))
    }

    // MARK: Answers

    private func authorize(_ request: Request) -> Response? {
        guard !apiKeys.isEmpty else { return nil }
        guard let presented = request.bearerToken else {
            return Self.error(.unauthorized, "Missing API key: send Authorization: Bearer <key>.", type: "invalid_request_error", code: "invalid_api_key")
        }
        guard apiKeys.contains(where: { ConstantTime.equal($0, presented) }) else {
            return Self.error(.unauthorized, "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
        }
        return nil
    }

    /// The router's failure as OpenAI would report it.
    static func failure(_ error: any Error) -> Response {
        guard let error = error as? ChatProviderError else { return Self.error(.internalServerError, "\(error)", type: "api_error") }
        switch error.kind {
        case .notConfigured:
            // Nothing could be tried: every route saturated, its breaker open, or out of rotation.
            var response = Self.error(.tooManyRequests, "Every provider for this model is busy or unavailable; retry shortly.", type: "rate_limit_error", code: "rate_limit_exceeded")
            response.headers[.retryAfter] = "1"
            return response
        case .timeout:
            return Self.error(.gatewayTimeout, "The upstream did not answer in time.", type: "api_error", code: "timeout")
        case .httpStatus where (400..<500).contains(error.status ?? 0) && error.status != 429:
            return Self.error(.init(code: error.status ?? 400), error.message, type: "invalid_request_error")
        case .httpStatus where error.status == 429:
            var response = Self.error(.tooManyRequests, "Every provider for this model is rate limited; retry shortly.", type: "rate_limit_error", code: "rate_limit_exceeded")
            response.headers[.retryAfter] = "\(max(1, Int((error.retryAfter ?? 1).rounded(.up))))"
            return response
        default:
            return Self.error(.badGateway, "The upstream failed: \(error.message)", type: "api_error")
        }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, type: String, param: String? = nil, code: String? = nil) -> Response {
        Response.json(
            status,
            ["error": ["message": .string(message), "type": .string(type), "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null]])
    }

    /// One server-sent event: `data: <json>` and a blank line.
    static func event(_ value: JSONValue) -> ByteBuffer {
        var bytes = Array("data: ".utf8)
        value.write(into: &bytes)
        bytes += Array("\n\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    /// A failure after the stream's headers went out travels as an error event, as OpenAI does.
    static func streamError(_ error: any Error) -> JSONValue {
        ["error": ["message": .string("\(error)"), "type": "api_error", "param": .null, "code": .null]]
    }

    /// `chatcmpl-` and 24 random letters and digits (8 from each of three random words, not one
    /// system call per character).
    static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var bytes = Array("chatcmpl-".utf8)
        for _ in 0..<3 {
            var word = UInt64.random(in: .min ... .max)
            for _ in 0..<8 {
                bytes.append(alphabet[Int(word % 62)])
                word /= 62
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
