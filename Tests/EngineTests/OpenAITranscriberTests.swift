// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Engine

/// A stub `POST /audio/transcriptions` service on loopback that misbehaves on purpose, and checks
/// the multipart request it gets. The first path component picks the behaviour.
private final class StubTranscriptionService: Sendable {
    struct Received: Sendable {
        var authorization: String?
        var contentType: String
        var body: [UInt8]
        /// The request body's parts, or why it could not be parsed.
        var parts: Result<[MultipartPart], MultipartError>

        func part(_ name: String) -> MultipartPart? { (try? parts.get())?.first { $0.name == name } }
    }

    let received = Locked<[Received]>([])

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/:behaviour/v1/audio/transcriptions") { request, context in
            let behaviour = try context.parameters.require("behaviour")
            let body = Array(try await request.body.collect(upTo: 4 << 20).readableBytesView)
            let contentType = request.headers[.contentType] ?? ""
            let parts: Result<[MultipartPart], MultipartError> = Result {
                try MultipartFormParser().parse(contentType: contentType, body: body)
            }.mapError { $0 as! MultipartError }
            self.received.withLock {
                $0.append(Received(authorization: request.headers[.authorization], contentType: contentType, body: body, parts: parts))
            }
            return try await Self.respond(behaviour)
        }
        return router
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func respond(_ behaviour: String) async throws -> Response {
        switch behaviour {
        case "json": return json(#"{"text":" Hello world. "}"#)
        case "verbose":
            return json(
                #"{"task":"transcribe","language":"english","duration":2.5,"text":"Hi there","#
                    + #""segments":[{"id":0,"start":0.0,"end":2.5,"text":"Hi there"}]}"#)
        case "verbosecode": return json(#"{"language":"ZH","duration":1,"text":"你好"}"#)
        case "error500": return json(#"{"error":{"message":"model crashed","type":"server_error"}}"#, status: .internalServerError)
        case "ratelimited":
            return json(
                #"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#, status: .tooManyRequests, headers: [.retryAfter: "12"])
        case "html":
            return Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html>proxy</html>")))
        case "notext": return json(#"{"transcript":"hello"}"#)
        case "big": return json(#"{"text":""# + String(repeating: "a", count: 64 << 10) + #""}"#)
        case "stall":
            try await Task.sleep(for: .seconds(30))
            return json(#"{"text":"late"}"#)
        case "stallbody":
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"text":"#))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                })
        default: return Response(status: .notFound)
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct OpenAITranscriberTests {
    /// MP3-looking bytes with the syntax of a multipart body inside.
    static let mp3: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0] + Array("\r\n--\r\n\r\nContent-Disposition: x\r\n".utf8) + [0x00, 0xFF, 0xFB]

    private func withService<T: Sendable>(
        _ body: @Sendable (StubTranscriptionService, _ port: Int, HTTPClient) async throws -> T
    ) async throws -> T {
        let service = StubTranscriptionService()
        return try await withLoopbackServer(service.router()) { port, client in try await body(service, port, client) }
    }

    private func transcriber(
        _ client: HTTPClient, port: Int, behaviour: String, apiKey: String? = "sk-test", timeout: Duration = .seconds(10),
        maxResponseBytes: Int = 32 << 10, maxUploadBytes: Int = 1 << 20
    ) -> OpenAITranscriber {
        OpenAITranscriber(
            configuration: .init(
                name: "stub-asr", baseURL: "http://127.0.0.1:\(port)/\(behaviour)/v1", apiKey: apiKey, model: "whisper-1", timeout: timeout,
                maxResponseBytes: maxResponseBytes, maxUploadBytes: maxUploadBytes),
            client: client, logger: Logger(label: "asr-test"))
    }

    // MARK: The request

    @Test func theMultipartRequestIsWellFormed() async throws {
        try await withService { service, port, client in
            let transcript = try await transcriber(client, port: port, behaviour: "json")
                .transcribe(.encoded(Self.mp3, format: .mp3), language: "zh", deadline: nil)
            #expect(transcript == Transcript(text: "Hello world."))

            let received = try #require(service.received.value.first)
            #expect(received.authorization == "Bearer sk-test")
            let parts = try received.parts.get()
            #expect(
                parts == [
                    MultipartPart(name: "file", filename: "audio.mp3", contentType: "audio/mpeg", body: Self.mp3),
                    MultipartPart(name: "model", body: Array("whisper-1".utf8)),
                    MultipartPart(name: "language", body: Array("zh".utf8)),
                    MultipartPart(name: "response_format", body: Array("json".utf8)),
                ])
            // Byte for byte, with the boundary the request announced.
            let prefix = "multipart/form-data; boundary="
            #expect(received.contentType.hasPrefix(prefix))
            let boundary = String(received.contentType.dropFirst(prefix.count))
            let field = { (name: String, value: String) in
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            let expected =
                Array(
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n".utf8)
                + Self.mp3 + Array(("\r\n" + field("model", "whisper-1") + field("language", "zh")).utf8)
                + Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\njson\r\n--\(boundary)--\r\n".utf8)
            #expect(received.body == expected)
        }
    }

    @Test func samplesAreSentAsAWAVFile() async throws {
        try await withService { service, port, client in
            let pcm = PCMAudio(samples: [0, 512, -512, 13, Int16.max, Int16.min], sampleRate: 16_000)
            _ = try await transcriber(client, port: port, behaviour: "json").transcribe(.pcm(pcm), language: nil, deadline: nil)
            let received = try #require(service.received.value.first)
            #expect(
                received.part("file") == MultipartPart(name: "file", filename: "audio.wav", contentType: "audio/wav", body: try AudioEncoder().encode(pcm, as: .wav)))
            #expect(received.part("language") == nil)
            #expect(received.part("model")?.text == "whisper-1")
        }
    }

    @Test func noLanguagePartWithoutALanguageAndNoKeyWithoutAKey() async throws {
        try await withService { service, port, client in
            _ = try await transcriber(client, port: port, behaviour: "json", apiKey: nil).transcribe(
                .encoded(Self.mp3, format: nil), language: "", deadline: nil)
            let received = try #require(service.received.value.first)
            #expect(try received.parts.get().map(\.name) == ["file", "model", "response_format"])
            #expect(received.part("file")?.filename == "audio.mp3")  // sniffed
            #expect(received.authorization == nil)
        }
    }

    @Test func whatIsSentForEachInput() throws {
        let wav = try AudioEncoder().encode(PCMAudio(samples: [1, 2], sampleRate: 8_000), as: .wav)
        let opus = Array("OggS".utf8) + [UInt8](repeating: 0, count: 24) + Array("OpusHead".utf8) + [1, 1]
        let vorbis = Array("OggS".utf8) + [UInt8](repeating: 0, count: 24) + Array("\u{1}vorbis".utf8)
        let cases: [(AudioInput, String, String)] = [
            (.encoded(wav, format: nil), "audio.wav", "audio/wav"),
            (.encoded(Array("fLaC".utf8) + [0, 0, 0, 34], format: nil), "audio.flac", "audio/flac"),
            (.encoded(opus, format: nil), "audio.ogg", "audio/ogg; codecs=opus"),
            (.encoded(opus, format: .opus), "audio.ogg", "audio/ogg; codecs=opus"),
            (.encoded(vorbis, format: nil), "audio.ogg", "audio/ogg"),
            (.encoded(Self.mp3, format: nil), "audio.mp3", "audio/mpeg"),
            (.encoded([0xFF, 0xFB, 0x90, 0x64], format: nil), "audio.mp3", "audio/mpeg"),
            (.encoded(wav, format: .flac), "audio.flac", "audio/flac"),  // the sender's word wins
            (.encoded(Array("not audio at all".utf8), format: nil), "audio", "application/octet-stream"),
            (.encoded([0xFF, 0xFF], format: nil), "audio", "application/octet-stream"),  // an MPEG frame, but layer I
        ]
        for (input, filename, contentType) in cases {
            let upload = try OpenAITranscriber.upload(for: input)
            #expect(upload.filename == filename, "\(input)")
            #expect(upload.contentType == contentType, "\(input)")
        }
    }

    @Test func audioNobodyCanSendIsRefusedBeforeAnyRequest() async throws {
        try await withService { service, port, client in
            let asr = transcriber(client, port: port, behaviour: "json", maxUploadBytes: 100)
            let cases: [(AudioInput, SpeechError.Kind)] = [
                (.encoded([], format: .wav), .badInput),
                (.pcm(PCMAudio(samples: [], sampleRate: 16_000)), .badInput),
                (.encoded([1, 2, 3, 4], format: .pcm), .unsupported),  // raw samples of unknown rate
                (.encoded([UInt8](repeating: 0xAA, count: 101), format: .mp3), .unsupported),  // over this service's limit
            ]
            for (input, kind) in cases {
                let error = await thrownError(SpeechError.self) { try await asr.transcribe(input, language: nil, deadline: nil) }
                #expect(error?.kind == kind, "\(input)")
            }
            #expect(service.received.value.isEmpty)
            // Exactly at the limit goes.
            _ = try await asr.transcribe(.encoded([UInt8](repeating: 0xAA, count: 100), format: .mp3), language: nil, deadline: nil)
            #expect(service.received.value.count == 1)
        }
    }

    // MARK: The answer

    @Test func verboseAnswersGiveLanguageAndDuration() async throws {
        try await withService { _, port, client in
            let verbose = try await transcriber(client, port: port, behaviour: "verbose").transcribe(
                .encoded(Self.mp3, format: .mp3), language: nil, deadline: nil)
            #expect(verbose == Transcript(text: "Hi there", language: "en", duration: 2.5))
            let coded = try await transcriber(client, port: port, behaviour: "verbosecode").transcribe(
                .encoded(Self.mp3, format: .mp3), language: nil, deadline: nil)
            #expect(coded == Transcript(text: "你好", language: "zh", duration: 1))
        }
    }

    @Test(arguments: [
        ("english", "en"), ("Chinese", "zh"), ("japanese", "ja"), ("EN", "en"), ("yue", "yue"), ("cantonese", "yue"), ("myanmar", "my"),
        ("haitian creole", "ht"), ("lao", "lo"), (" german ", "de"), ("Klingon", "Klingon"),
    ])
    func languageNamesBecomeCodes(name: String, code: String) {
        #expect(LanguageNames.code(for: name) == code)
    }

    // MARK: Errors

    @Test func serverErrorCarriesTheProvidersMessage() async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await transcriber(client, port: port, behaviour: "error500").transcribe(
                    .encoded(Self.mp3, format: .mp3), language: nil, deadline: nil)
            }
            #expect(error == SpeechError(kind: .httpStatus, status: 500, message: "model crashed"))
        }
    }

    @Test func rateLimitCarriesRetryAfter() async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await transcriber(client, port: port, behaviour: "ratelimited").transcribe(
                    .encoded(Self.mp3, format: .mp3), language: nil, deadline: nil)
            }
            #expect(error == SpeechError(kind: .httpStatus, status: 429, retryAfter: 12, message: "Rate limit reached"))
        }
    }

    @Test(arguments: [
        ("html", "stub-asr: answer is not JSON"), ("notext", "stub-asr: answer has no text"), ("big", "stub-asr: response larger than 32768 bytes"),
    ])
    func unusableAnswersAreMalformed(behaviour: String, message: String) async throws {
        try await withService { _, port, client in
            let error = await thrownError(SpeechError.self) {
                try await transcriber(client, port: port, behaviour: behaviour).transcribe(
                    .encoded(Self.mp3, format: .mp3), language: nil, deadline: nil)
            }
            #expect(error?.kind == .malformed)
            #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
        }
    }

    @Test(arguments: ["stall", "stallbody"])
    func aStallEndsAtTheCallersDeadline(behaviour: String) async throws {
        try await withService { service, port, client in
            let asr = transcriber(client, port: port, behaviour: behaviour, timeout: .seconds(20))
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(400)
            let error = try await withTimeLimit(.seconds(10)) {
                await thrownError(SpeechError.self) { try await asr.transcribe(.encoded(Self.mp3, format: .mp3), language: "en", deadline: deadline) }
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now >= deadline)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(service.received.value.count == 1)
        }
    }

    @Test func aStallEndsAtTheOwnTimeout() async throws {
        try await withService { _, port, client in
            let asr = transcriber(client, port: port, behaviour: "stall", timeout: .milliseconds(400))
            let started = ContinuousClock.now
            let error = try await withTimeLimit(.seconds(10)) {
                await thrownError(SpeechError.self) { try await asr.transcribe(.encoded(Self.mp3, format: .mp3), language: nil, deadline: nil) }
            }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}
