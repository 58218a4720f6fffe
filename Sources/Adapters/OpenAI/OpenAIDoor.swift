// SPDX-License-Identifier: Apache-2.0
import Crypto
import Engine
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The OpenAI-compatible door: `POST /v1/chat/completions` (whole, or streamed as SSE exactly as
/// OpenAI streams it), `GET /v1/models`, and the seed's `POST /api/v1/llm/generate`.
///
/// A request with `messages` is stateless: it goes through the engine's one pipeline (rate limit
/// per API key, the `realtime` lane, the response cache, the router, the usage rows) with no
/// session history read or written. A client that disconnects cancels its answer: the upstream
/// request ends at once and is recorded as `cancelled`, never as a route failure. Errors have
/// OpenAI's shape (``OpenAIError``); the API keys are checked by middleware on the route group.
///
/// ```swift
/// let door = OpenAIDoor(engine: engine, apiKeys: ["k"], maxBodyBytes: 1 << 20, logger: logger)
/// door.addRoutes(to: router)
/// ```
public struct OpenAIDoor: Sendable {
    let engine: ConversationEngine
    /// `gateway.api_keys`; empty: open.
    let apiKeys: [String]
    let maxBodyBytes: Int
    let logger: Logger

    public init(engine: ConversationEngine, apiKeys: [String], maxBodyBytes: Int, logger: Logger) {
        self.engine = engine
        self.apiKeys = apiKeys
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let group = router.group().add(middleware: OpenAIKeyMiddleware<Context>(keys: apiKeys))
        group.get("/v1/models") { _, _ in
            let models = self.engine.models
            let owners = Dictionary(
                models.providers.flatMap { provider in provider.models.map { ($0, provider.name) } }, uniquingKeysWith: { first, _ in first })
            return try Self.json(OpenAIModelList(data: models.available.map { .init(id: $0, ownedBy: owners[$0] ?? "hub") }))
        }
        group.post("/v1/chat/completions") { request, _ in
            let parsed = try OpenAIChatCompletionRequest.decode(try await self.body(of: request).readableBytesView)
            try self.checkModel(parsed.model)
            let (admission, answer) = self.engine.answer(parsed.chatRequest, caller: Self.caller(of: request), showsProgress: parsed.stream)
            self.log(admission)
            return parsed.stream
                ? try await self.streamed(answer, model: parsed.model, includeUsage: parsed.includeUsage)
                : try await self.whole(answer, model: parsed.model)
        }
        group.post("/api/v1/llm/generate") { request, _ in
            let parsed = try OpenAIGenerateRequest.decode(try await self.body(of: request).readableBytesView)
            guard let model = parsed.model ?? self.engine.models.defaultModel else {
                throw OpenAIError(status: .serviceUnavailable, message: "No LLM provider is configured.", type: "api_error")
            }
            try self.checkModel(model)
            let (admission, answer) = self.engine.answer(
                parsed.chatRequest(model: model), caller: Self.caller(of: request), showsProgress: parsed.stream)
            self.log(admission)
            return parsed.stream ? try await self.streamedText(answer, model: model) : try await self.wholeText(answer, model: model)
        }
    }

    // MARK: Requests

    private func body(of request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw OpenAIError(status: .contentTooLarge, message: "The request body is larger than \(maxBodyBytes) bytes.", type: "invalid_request_error")
        }
    }

    private func checkModel(_ model: String) throws {
        guard engine.models.available.contains(model) else {
            throw OpenAIError(
                status: .notFound, message: "The model `\(model)` does not exist here. See GET /v1/models.", type: "invalid_request_error",
                param: "model", code: "model_not_found")
        }
    }

    /// Who is asking, for the rate limit: a digest of the API key (never the key itself).
    static func caller(of request: Request) -> String {
        guard let key = request.bearerToken else { return "anonymous" }
        return "key-" + SHA256.hash(data: Data(key.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    private func log(_ admission: ConversationEngine.Admission) {
        if case .accepted = admission { return }
        logger.info("API request not taken", metadata: ["hub.admission": "\(admission)"])
    }

    // MARK: Answers

    /// The answer's first part that says how it will end or that it has begun: a refusal or a
    /// failure before any text becomes a real error status (the headers are not sent yet).
    private func firstPart(_ answer: AnswerStream) async throws -> AnswerPart {
        guard let part = await answer.next() else {
            await answer.cancel()
            throw CancellationError()
        }
        switch part {
        case .notice(_, let reason):
            throw Self.refusal(reason)
        case .failure(let reply, let error):
            throw Self.failure(reply, error)
        case .cancelled:
            throw CancellationError()
        case .delta, .sentence, .final:
            return part
        }
    }

    static func refusal(_ reason: ConversationEngine.Admission) -> OpenAIError {
        switch reason {
        case .limited(let retryAfter):
            OpenAIError(
                status: .tooManyRequests, message: "Rate limit reached for this API key; retry after \(retryAfter.retryAfterSeconds) s.",
                type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: retryAfter.retryAfterSeconds)
        default:
            OpenAIError(
                status: .tooManyRequests, message: "The hub is busy; retry shortly.", type: "rate_limit_error", code: "rate_limit_exceeded",
                retryAfter: 1)
        }
    }

    /// The answer's final reply; a refusal or failure is thrown as the error OpenAI would send.
    private func finalReply(_ answer: AnswerStream) async throws -> Reply {
        var part: AnswerPart? = try await firstPart(answer)
        while let current = part {
            switch current {
            case .final(let reply): return reply
            case .failure(let reply, let error): throw Self.failure(reply, error)
            case .notice(_, let reason): throw Self.refusal(reason)
            case .cancelled: throw CancellationError()
            case .delta, .sentence: part = await answer.next()
            }
        }
        await answer.cancel()
        throw CancellationError()
    }

    static func failure(_ reply: Reply, _ error: ChatProviderError?) -> OpenAIError {
        error.map(OpenAIError.init) ?? OpenAIError(status: .internalServerError, message: reply.text, type: "api_error")
    }

    private func whole(_ answer: AnswerStream, model: String) async throws -> Response {
        let reply = try await finalReply(answer)
        return try Self.json(
            OpenAIChatCompletion(
                id: Self.newID(), created: Self.now, model: reply.model.flatMap { $0.isEmpty ? nil : $0 } ?? model,
                choices: [.init(message: .init(content: reply.text), finishReason: reply.finishReason ?? "stop")],
                usage: reply.usage.map(OpenAIUsage.init)))
    }

    private func streamed(_ answer: AnswerStream, model: String, includeUsage: Bool) async throws -> Response {
        let first = try await firstPart(answer)
        let id = Self.newID()
        let created = Self.now
        return Self.eventStream(answer) { writer in
            let encoder = JSONEncoder()
            func chunk(_ delta: OpenAIChatCompletionChunk.Choice.Delta, finish: String? = nil, model: String) throws -> ByteBuffer {
                try Self.event(
                    OpenAIChatCompletionChunk(
                        id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: finish)], includesUsage: includeUsage),
                    encoder: encoder)
            }
            try await writer.write(try chunk(.init(role: "assistant", content: ""), model: model))
            var part: AnswerPart? = first
            while let current = part {
                switch current {
                case .delta(let text):
                    try await writer.write(try chunk(.init(content: text), model: model))
                case .final(let reply):
                    let answeredBy = reply.model.flatMap { $0.isEmpty ? nil : $0 } ?? model
                    try await writer.write(try chunk(.init(), finish: reply.finishReason ?? "stop", model: answeredBy))
                    if includeUsage, let usage = reply.usage {
                        try await writer.write(
                            try Self.event(
                                OpenAIChatCompletionChunk(
                                    id: id, created: created, model: answeredBy, choices: [], usage: OpenAIUsage(usage), includesUsage: true),
                                encoder: encoder))
                    }
                case .failure(let reply, let error):
                    // The headers are gone: the failure travels as an error event, as OpenAI does.
                    try await writer.write(try Self.event(Self.failure(reply, error).body, encoder: encoder))
                case .sentence, .notice, .cancelled:
                    break
                }
                part = await answer.next()
            }
        }
    }

    // MARK: The seed's generate API

    private func wholeText(_ answer: AnswerStream, model: String) async throws -> Response {
        let reply = try await finalReply(answer)
        return try Self.json(OpenAIGenerateResponse(text: reply.text, model: reply.model ?? model, usage: reply.usage.map(OpenAIUsage.init)))
    }

    private func streamedText(_ answer: AnswerStream, model: String) async throws -> Response {
        let first = try await firstPart(answer)
        return Self.eventStream(answer) { writer in
            let encoder = JSONEncoder()
            var part: AnswerPart? = first
            while let current = part {
                switch current {
                case .delta(let text):
                    try await writer.write(try Self.event(OpenAIGenerateResponse.Piece(text: text), encoder: encoder))
                case .final(let reply):
                    try await writer.write(
                        try Self.event(
                            OpenAIGenerateResponse.Done(model: reply.model ?? model, usage: reply.usage.map(OpenAIUsage.init)), encoder: encoder))
                case .failure(let reply, let error):
                    try await writer.write(try Self.event(Self.failure(reply, error).body, encoder: encoder))
                case .sentence, .notice, .cancelled:
                    break
                }
                part = await answer.next()
            }
        }
    }

    // MARK: Wire

    /// A `text/event-stream` response that writes with `body`, then `[DONE]`. A client that goes
    /// away mid-answer cancels it (the write fails, or the response task is cancelled).
    private static func eventStream(_ answer: AnswerStream, _ body: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                do {
                    try await body(&writer)
                    // The parts ran out without a terminal one only when this task was cancelled
                    // (the client went away): the turn must not go on writing into a full stream.
                    await answer.cancel()
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                } catch {
                    await answer.cancel()
                    throw error
                }
            })
    }

    /// One server-sent event: `data: <json>` and a blank line.
    static func event(_ value: some Encodable, encoder: JSONEncoder) throws -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try encoder.encode(value))
        buffer.writeString("\n\n")
        return buffer
    }

    static func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: try JSONEncoder().encode(value))))
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

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
