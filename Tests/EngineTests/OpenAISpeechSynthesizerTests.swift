// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Engine

/// A stub `POST /audio/speech` service on loopback that misbehaves on purpose. The first path
/// component picks the behaviour: `/<behaviour>/v1/audio/speech`.
private final class StubSpeechService: Sendable {
    struct Received: Sendable {
        var path: String
        var authorization: String?
        var contentType: String?
        var body: JSONValue?
    }

    let received = Locked<[Received]>([])

    static let wav: [UInt8] = try! AudioEncoder().encode(PCMAudio(samples: [0, 1200, -1200, 32_767], sampleRate: 22_050), as: .wav)
    static let mp3: [UInt8] = try! AudioEncoder().encode(
        PCMAudio(samples: (0..<4410).map { Int16(8000 * sin(Double($0) / 10)) }, sampleRate: 22_050), as: .mp3)

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/:behaviour/v1/audio/speech") { request, context in
            let behaviour = try context.parameters.require("behaviour")
            let body = try await request.body.collect(upTo: 1 << 20)
            self.received.withLock {
                $0.append(
                    Received(
                        path: request.uri.path, authorization: request.headers[.authorization], contentType: request.headers[.contentType],
                        body: try? JSONValue(parsing: body.readableBytesView)))
            }
            return try await Self.respond(behaviour)
        }
        return router
    }

    private static func answer(_ bytes: [UInt8], _ contentType: String?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if let contentType { headers[.contentType] = contentType }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func respond(_ behaviour: String) async throws -> Response {
        switch behaviour {
        case "wav": return answer(wav, "audio/wav")
        case "mp3": return answer(mp3, "audio/mpeg")
        case "octet": return answer(wav, "application/octet-stream")
        case "untyped": return answer(wav, nil)
        case "pcm": return answer([0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80, 0xFF, 0x7F], "audio/pcm")
        case "pcmrate": return answer([0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00], "audio/L16; rate=16000; channels=2")
        case "oddpcm": return answer([0x01, 0x00, 0x02], "audio/pcm")
        case "error500":
            return answer(
                Array(#"{"error":{"message":"TTS engine crashed","type":"server_error"}}"#.utf8), "application/json", status: .internalServerError)
        case "ratelimited":
            return answer(
                Array(#"{"error":{"message":"Rate limit reached for requests","code":"rate_limit_exceeded"}}"#.utf8), "application/json",
                status: .tooManyRequests, headers: [.retryAfter: "7"])
        case "unavailable": return Response(status: .serviceUnavailable)
        case "jsonok": return answer(Array(#"{"error":{"message":"voice not found"}}"#.utf8), "application/json")
        case "octetjson": return answer(Array(#" {"message":"model loading"}"#.utf8), "application/octet-stream")
        case "html": return answer(Array("<html>login</html>".utf8), "text/html; charset=utf-8")
        case "empty": return answer([], "audio/wav")
        case "big": return answer([UInt8](repeating: 0x55, count: 64 << 10), "audio/mpeg")
        case "bigchunked":
            return Response(
                status: .ok, headers: [.contentType: "audio/mpeg"],
                body: ResponseBody { writer in
                    for _ in 0..<16 { try await writer.write(ByteBuffer(repeating: 0x55, count: 8 << 10)) }
                    try await writer.finish(nil)
                })
        case "stall":
            try await Task.sleep(for: .seconds(30))
            return answer(wav, "audio/wav")
        case "stallbody":
            return Response(
                status: .ok, headers: [.contentType: "audio/wav"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: wav.prefix(20)))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                })
        default: return Response(status: .notFound)
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct OpenAISpeechSynthesizerTests {
    private func withService<T: Sendable>(_ body: @Sendable (StubSpeechService, _ port: Int, HTTPClient) async throws -> T) async throws -> T {
        let service = StubSpeechService()
        return try await withLoopbackServer(service.router()) { port, client in try await body(service, port, client) }
    }

    private func synthesizer(
        _ client: HTTPClient, port: Int, behaviour: String, apiKey: String? = "sk-test", voices: [String] = ["alloy", "nova"],
        defaultVoice: String? = nil, timeout: Duration = .seconds(10), maxResponseBytes: Int = 32 << 10
    ) -> OpenAISpeechSynthesizer {
        OpenAISpeechSynthesizer(
            configuration: .init(
                name: "stub-tts", baseURL: "http://127.0.0.1:\(port)/\(behaviour)/v1", apiKey: apiKey, model: "tts-1", voices: voices,
                defaultVoice: defaultVoice, timeout: timeout, maxResponseBytes: maxResponseBytes),
            client: client, logger: Logger(label: "tts-test"))
    }

    // MARK: Audio

    @Test func wavAnswerAndTheRequestThatAskedForIt() async throws {
        try await withService { service, port, client in
            let speech = try await synthesizer(client, port: port, behaviour: "wav")
                .synthesize(SpeechRequest(text: "Hello 你好", voice: "nova", speed: 1.25, format: .wav), deadline: nil)
            #expect(speech == .encoded(StubSpeechService.wav, .wav))
            let sent = try #require(service.received.value.first)
            #expect(sent.path == "/wav/v1/audio/speech")
            #expect(sent.authorization == "Bearer sk-test")
            #expect(sent.contentType == "application/json")
            let expected: JSONValue = [
                "model": "tts-1", "voice": "nova", "input": "Hello 你好", "response_format": "wav", "speed": .double(1.25),
            ]
            #expect(sent.body == expected)
        }
    }

    @Test func formatsMapOntoResponseFormat() async throws {
        try await withService { service, port, client in
            let tts = synthesizer(client, port: port, behaviour: "octet")
            // Ogg Vorbis is nobody's response_format: WAV is asked for, and reported.
            for (format, asked, answered) in [
                (AudioFormat.wav, "wav", AudioFormat.wav), (.mp3, "mp3", .mp3), (.flac, "flac", .flac), (.opus, "opus", .opus), (.ogg, "wav", .wav),
            ] {
                let speech = try await tts.synthesize(SpeechRequest(text: "hi", format: format), deadline: nil)
                #expect(speech == .encoded(StubSpeechService.wav, answered), "\(format)")
                #expect(service.received.value.last?.body?["response_format"]?.stringValue == asked, "\(format)")
            }
        }
    }

    @Test func theAnswersContentTypeNamesItsFormat() async throws {
        try await withService { _, port, client in
            let mp3 = try await synthesizer(client, port: port, behaviour: "mp3").synthesize(SpeechRequest(text: "hi", format: .wav), deadline: nil)
            #expect(mp3 == .encoded(StubSpeechService.mp3, .mp3))
            let wav = try await synthesizer(client, port: port, behaviour: "wav").synthesize(SpeechRequest(text: "hi", format: .flac), deadline: nil)
            #expect(wav == .encoded(StubSpeechService.wav, .wav))
            // Without a content type the audio is taken as what was asked for.
            let untyped = try await synthesizer(client, port: port, behaviour: "untyped").synthesize(
                SpeechRequest(text: "hi", format: .flac), deadline: nil)
            #expect(untyped == .encoded(StubSpeechService.wav, .flac))
        }
    }

    @Test func pcmComesBackAsSamples() async throws {
        try await withService { service, port, client in
            let speech = try await synthesizer(client, port: port, behaviour: "pcm").synthesize(
                SpeechRequest(text: "hi", format: .pcm), deadline: nil)
            #expect(speech == .pcm(PCMAudio(samples: [1, -1, Int16.min, Int16.max], sampleRate: 24_000)))
            #expect(service.received.value.first?.body?["response_format"] == "pcm")
            let described = try await synthesizer(client, port: port, behaviour: "pcmrate").synthesize(
                SpeechRequest(text: "hi", format: .pcm), deadline: nil)
            #expect(described == .pcm(PCMAudio(samples: [1, 2, 3, 4], sampleRate: 16_000, channels: 2)))
        }
    }

    @Test func voices() async throws {
        try await withService { service, port, client in
            _ = try await synthesizer(client, port: port, behaviour: "wav").synthesize(SpeechRequest(text: "a"), deadline: nil)
            _ = try await synthesizer(client, port: port, behaviour: "wav", defaultVoice: "nova").synthesize(SpeechRequest(text: "b"), deadline: nil)
            _ = try await synthesizer(client, port: port, behaviour: "wav", voices: []).synthesize(
                SpeechRequest(text: "c", voice: "anyone"), deadline: nil)
            _ = try await synthesizer(client, port: port, behaviour: "wav", voices: []).synthesize(SpeechRequest(text: "d"), deadline: nil)
            let sent = service.received.value.map { $0.body?["voice"] }
            #expect(sent == [.string("alloy"), .string("nova"), .string("anyone"), nil])
            #expect(synthesizer(client, port: port, behaviour: "wav").voices == ["alloy", "nova"])

            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: "wav").synthesize(SpeechRequest(text: "e", voice: "bob"), deadline: nil)
            }
            #expect(error?.kind == .unsupported)
            #expect(service.received.value.count == 4)  // refused before any request
        }
    }

    @Test func noAuthorizationWithoutAKeyAndABaseURLWithATrailingSlash() async throws {
        try await withService { service, port, client in
            _ = try await synthesizer(client, port: port, behaviour: "wav", apiKey: nil).synthesize(SpeechRequest(text: "a"), deadline: nil)
            _ = try await synthesizer(client, port: port, behaviour: "wav", apiKey: "").synthesize(SpeechRequest(text: "b"), deadline: nil)
            let slash = OpenAISpeechSynthesizer(
                configuration: .init(name: "slash", baseURL: "http://127.0.0.1:\(port)/wav/v1/", apiKey: nil, model: "m"), client: client,
                logger: Logger(label: "tts-test"))
            _ = try await slash.synthesize(SpeechRequest(text: "c"), deadline: nil)
            #expect(service.received.value.map(\.authorization) == [nil, nil, nil])
            #expect(service.received.value.last?.path == "/wav/v1/audio/speech")
        }
    }

    @Test func nothingToSayIsBadInput() async throws {
        try await withService { service, port, client in
            for text in ["", "  \n\t"] {
                let error = await thrownError(SpeechError.self) {
                    try await synthesizer(client, port: port, behaviour: "wav").synthesize(SpeechRequest(text: text), deadline: nil)
                }
                #expect(error?.kind == .badInput)
            }
            #expect(service.received.value.isEmpty)
        }
    }

    // MARK: Errors

    @Test func serverErrorCarriesTheProvidersMessage() async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: "error500").synthesize(SpeechRequest(text: "hi"), deadline: nil)
            }
            #expect(error == SpeechError(kind: .httpStatus, status: 500, message: "TTS engine crashed"))
            let unavailable = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: "unavailable").synthesize(SpeechRequest(text: "hi"), deadline: nil)
            }
            #expect(unavailable == SpeechError(kind: .httpStatus, status: 503, message: "Service Unavailable"))
        }
    }

    @Test func rateLimitCarriesRetryAfter() async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: "ratelimited").synthesize(SpeechRequest(text: "hi"), deadline: nil)
            }
            #expect(error == SpeechError(kind: .httpStatus, status: 429, retryAfter: 7, message: "Rate limit reached for requests"))
        }
    }

    @Test(arguments: [
        ("jsonok", "application/json where audio was expected: voice not found"), ("octetjson", "JSON where audio was expected: model loading"),
        ("html", "text/html where audio was expected"), ("empty", "empty answer"), ("oddpcm", "PCM answer with an odd number of bytes"),
    ])
    func answersThatAreNotAudioAreMalformed(behaviour: String, message: String) async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: behaviour).synthesize(SpeechRequest(text: "hi", format: .pcm), deadline: nil)
            }
            #expect(error?.kind == .malformed)
            #expect(error?.message == "stub-tts: \(message)")
        }
    }

    @Test(arguments: ["big", "bigchunked"])
    func anOversizedAnswerIsMalformed(behaviour: String) async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: behaviour, maxResponseBytes: 32 << 10).synthesize(
                    SpeechRequest(text: "hi"), deadline: nil)
            }
            #expect(error == SpeechError.malformed("stub-tts: response larger than 32768 bytes"))
        }
    }

    /// A client that does not retry connecting (the shared one retries until the deadline, so there
    /// a refused connection ends as a timeout).
    @Test func aRefusedConnectionIsATransportError() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // Port 1 on loopback: nothing listens there.
        let error = await thrownError(SpeechError.self) {
            try await synthesizer(client, port: 1, behaviour: "wav").synthesize(SpeechRequest(text: "hi"), deadline: nil)
        }
        try await client.shutdown()
        #expect(error?.kind == .transport)
        #expect(error?.message.hasPrefix("stub-tts: ") == true)
    }

    // MARK: Time

    /// The caller's deadline is earlier than the synthesizer's own timeout: it wins.
    @Test(arguments: ["stall", "stallbody"])
    func aStallEndsAtTheCallersDeadline(behaviour: String) async throws {
        try await withService { _, port, client in
            let tts = synthesizer(client, port: port, behaviour: behaviour, timeout: .seconds(20))
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(400)
            let error = try await withTimeLimit(.seconds(10)) {
                await thrownError(SpeechError.self) { try await tts.synthesize(SpeechRequest(text: "hi"), deadline: deadline) }
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now >= deadline)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    /// No deadline from the caller: the synthesizer's own timeout ends it.
    @Test func aStallEndsAtTheOwnTimeout() async throws {
        try await withService { _, port, client in
            let tts = synthesizer(client, port: port, behaviour: "stall", timeout: .milliseconds(400))
            let started = ContinuousClock.now
            let error = try await withTimeLimit(.seconds(10)) {
                await thrownError(SpeechError.self) { try await tts.synthesize(SpeechRequest(text: "hi"), deadline: nil) }
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aDeadlineAlreadyPastSendsNothing() async throws {
        try await withService { service, port, client in
            let error = await thrownError(SpeechError.self) {
                try await synthesizer(client, port: port, behaviour: "wav").synthesize(SpeechRequest(text: "hi"), deadline: .now - .seconds(1))
            }
            #expect(error?.kind == .timeout)
            #expect(service.received.value.isEmpty)
        }
    }

    @Test func cancellationIsNotASpeechError() async throws {
        try await withService { service, port, client in
            let tts = synthesizer(client, port: port, behaviour: "stall", timeout: .seconds(20))
            let call = Task { try await tts.synthesize(SpeechRequest(text: "hi"), deadline: nil) }
            let result = try await withTimeLimit(.seconds(10)) {
                // Cancel once the request is at the service.
                while service.received.value.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                call.cancel()
                return await call.result
            }
            switch result {
            case .success(let speech): Issue.record("expected cancellation, got \(speech)")
            case .failure(let error): #expect(error is CancellationError, "\(error)")
            }
        }
    }
}
