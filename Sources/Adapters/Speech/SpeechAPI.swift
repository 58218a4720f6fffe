// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The speech routes: the seed's `POST /api/v1/tts/synthesize` and `POST /api/v1/asr/transcribe`
/// (errors in the hub's shape, ``HubError``), and OpenAI's `POST /v1/audio/speech` and
/// `POST /v1/audio/transcriptions` (errors in OpenAI's shape, behind the gateway's API keys).
///
/// Synthesis answers the audio itself (WAV unless a format is asked for; `Content-Type` says which,
/// `X-Speech-Provider` who spoke). Recognition takes a multipart form with a `file` part, or for the
/// seed's route also a bare audio body, and answers `{"text","language","duration","provider"}`.
/// All speech work runs in the `cpu` lane: a full lane is 429 with `Retry-After`.
public struct SpeechAPI: Sendable {
    let speech: SpeechEngine
    /// `gateway.api_keys`, for the OpenAI-shaped routes; empty: open.
    let apiKeys: [String]
    /// Largest audio upload.
    let maxUploadBytes: Int
    /// Largest JSON body.
    let maxBodyBytes: Int
    let logger: Logger

    public init(speech: SpeechEngine, apiKeys: [String], maxUploadBytes: Int, maxBodyBytes: Int, logger: Logger) {
        self.speech = speech
        self.apiKeys = apiKeys
        self.maxUploadBytes = maxUploadBytes
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/api/v1/tts/synthesize") { request, _ in
            let body = try await self.json(SpeechSynthesisBody.self, from: request) { HubError($0, $1) }
            let order: SpeechSynthesisOrder
            do {
                order = try SpeechSynthesisOrder(
                    text: body.text, voice: body.voice, speed: body.speed, format: body.format, defaultFormat: .wav, textField: "text",
                    formatField: "format")
            } catch let failure as SpeechSynthesisOrder.FieldError {
                throw HubError(.badRequest, failure.message)
            }
            return try await self.synthesize(order.request) { Self.hubError($0) }
        }
        router.post("/api/v1/asr/transcribe") { request, _ in
            let (audio, language, _) = try await self.upload(from: request, allowBareBody: true) { HubError($0, $1) }
            let routed = try await self.transcribe(audio, language: language) { Self.hubError($0) }
            return try Self.json(TranscriptionResult(routed))
        }
        let gateway = router.group().add(middleware: OpenAIKeyMiddleware<Context>(keys: apiKeys))
        gateway.post("/v1/audio/speech") { request, _ in
            let body = try await self.json(OpenAISpeechBody.self, from: request) { status, message in
                OpenAIError(status: status, message: message, type: "invalid_request_error")
            }
            let order: SpeechSynthesisOrder
            do {
                order = try SpeechSynthesisOrder(
                    text: body.input, voice: body.voice, speed: body.speed, format: body.responseFormat, defaultFormat: .mp3,
                    textField: "input", formatField: "response_format")
            } catch let failure as SpeechSynthesisOrder.FieldError {
                throw OpenAIError.invalidRequest(failure.message, param: failure.field)
            }
            return try await self.synthesize(order.request) { OpenAIError.speech($0) }
        }
        gateway.post("/v1/audio/transcriptions") { request, _ in
            let (audio, language, fields) = try await self.upload(from: request, allowBareBody: false) { status, message in
                OpenAIError(status: status, message: message, type: "invalid_request_error", param: "file")
            }
            let routed = try await self.transcribe(audio, language: language) { OpenAIError.speech($0) }
            switch fields["response_format"] ?? "json" {
            case "text":
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: routed.transcript.text)))
            case "verbose_json":
                return try Self.json(TranscriptionResult(routed))
            case "json":
                return try Self.json(["text": routed.transcript.text])
            case let other:
                throw OpenAIError.invalidRequest("`response_format` \(other) is not offered here (json, text, verbose_json).", param: "response_format")
            }
        }
    }

    // MARK: Synthesis

    private func synthesize(_ request: SpeechRequest, error: (SpeechError) -> any Error) async throws -> Response {
        let routed: SpeechSynthesisRouter.Routed
        let bytes: [UInt8]
        do {
            routed = try await speech.synthesize(request)
            bytes = try SpeechAudio.render(routed.speech, as: request.format)
        } catch let failure as SpeechError {
            logger.info("speech synthesis failed", metadata: ["error": "\(failure)"])
            throw error(failure)
        }
        var headers: HTTPFields = [.contentType: request.format.mediaType]
        headers[HTTPField.Name("X-Speech-Provider")!] = routed.provider
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Recognition

    private func transcribe(_ audio: AudioInput, language: String?, error: (SpeechError) -> any Error) async throws
        -> SpeechRecognitionRouter.Routed
    {
        do {
            return try await speech.transcribe(audio, language: language)
        } catch let failure as SpeechError {
            logger.info("speech recognition failed", metadata: ["error": "\(failure)"])
            throw error(failure)
        }
    }

    /// The audio of a recognition request: the `file` part of a multipart form (with its
    /// `language` and other fields), or, where allowed, a bare body of `audio/*` or
    /// `application/octet-stream` (`?language=` in the query).
    private func upload(
        from request: Request, allowBareBody: Bool, error fail: (HTTPResponse.Status, String) -> any Error
    ) async throws -> (AudioInput, language: String?, fields: [String: String]) {
        let contentType = request.headers[.contentType] ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxUploadBytes)
        } catch {
            throw fail(.contentTooLarge, "The upload is larger than \(maxUploadBytes) bytes.")
        }
        let bytes = Array(body.readableBytesView)
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let parts: [MultipartPart]
            do {
                parts = try MultipartFormParser().parse(contentType: contentType, body: bytes)
            } catch let failure as MultipartError {
                throw fail(.badRequest, "The form could not be read: \(failure.message)")
            }
            guard let file = parts.first(where: { $0.name == "file" }) else {
                throw fail(.badRequest, "The form has no `file` part with the audio.")
            }
            var fields = [String: String]()
            for part in parts where part.name != "file" && part.filename == nil {
                fields[part.name] = String(decoding: part.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let format = SpeechAudio.format(filename: file.filename, contentType: file.contentType)
            return (.encoded(file.body, format: format), fields["language"].flatMap { $0.isEmpty ? nil : $0 }, fields)
        }
        guard allowBareBody else { throw fail(.unsupportedMediaType, "Send the audio as multipart/form-data with a `file` part.") }
        let type = contentType.lowercased()
        guard type.hasPrefix("audio/") || type.hasPrefix("application/octet-stream") || type.isEmpty else {
            throw fail(.unsupportedMediaType, "Send audio (audio/*, application/octet-stream) or a multipart form with a `file` part.")
        }
        guard !bytes.isEmpty else { throw fail(.badRequest, "The body is empty: there is no audio to recognize.") }
        let language = request.uri.queryParameters.get("language").flatMap { $0.isEmpty ? nil : $0 }
        return (.encoded(bytes, format: SpeechAudio.format(filename: nil, contentType: contentType)), language, [:])
    }

    // MARK: Helpers

    /// The JSON body as `T`; failures in the route's error shape (`fail` gets the status and message).
    private func json<T: Decodable>(
        _ type: T.Type, from request: Request, error fail: (HTTPResponse.Status, String) -> any Error
    ) async throws -> T {
        try await request.decodeJSON(type, maxBytes: maxBodyBytes, error: fail)
    }

    static func json<T: Encodable>(_ value: T) throws -> Response {
        try Response.encoded(value)
    }

    /// A speech failure in the hub's error shape.
    static func hubError(_ error: SpeechError) -> HubError {
        let (status, message, retryAfter) = SpeechAPI.status(of: error)
        return HubError(status, message, headers: retryAfter.map { [.retryAfter: "\($0)"] } ?? [:])
    }

    /// The HTTP status, message and `Retry-After` seconds for a speech failure.
    static func status(of error: SpeechError) -> (HTTPResponse.Status, String, Int?) {
        switch error.kind {
        case .badInput: (.badRequest, error.message, nil)
        case .unsupported: (.badRequest, "No speech provider here can do that: \(error.message)", nil)
        case .busy: (.tooManyRequests, "Speech is busy: \(error.message)", 1)
        case .notConfigured, .unavailable: (.serviceUnavailable, "No speech provider is available: \(error.message)", 5)
        case .timeout: (.gatewayTimeout, "The speech provider did not answer in time.", nil)
        case .httpStatus where error.status == 429: (.tooManyRequests, "Every speech provider is rate limited; retry shortly.", 1)
        case .httpStatus, .transport, .malformed: (.badGateway, "The speech provider failed: \(error.message)", nil)
        }
    }
}

/// `{"text","language","duration","provider"}`.
struct TranscriptionResult: Encodable, Sendable {
    var text: String
    var language: String?
    var duration: Double?
    var provider: String

    init(_ routed: SpeechRecognitionRouter.Routed) {
        text = routed.transcript.text
        language = routed.transcript.language
        duration = routed.transcript.duration
        provider = routed.provider
    }
}

extension OpenAIError {
    /// A speech failure in OpenAI's error shape.
    static func speech(_ error: SpeechError) -> OpenAIError {
        let (status, message, retryAfter) = SpeechAPI.status(of: error)
        let type =
            switch status {
            case .badRequest: "invalid_request_error"
            case .tooManyRequests: "rate_limit_error"
            default: "api_error"
            }
        return OpenAIError(status: status, message: message, type: type, retryAfter: retryAfter)
    }
}
