// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

/// A speech synthesizer speaking the OpenAI `POST /audio/speech` protocol: OpenAI itself,
/// SiliconFlow, and local TTS servers that copy it.
///
/// The request is JSON (`model`, `voice`, `input`, `response_format`, `speed`); the answer is the
/// audio file. The requested ``AudioFormat`` maps onto `response_format` as it is, except `ogg`
/// (Ogg Vorbis), which no such service makes: WAV is asked for and the caller converts. OpenAI's
/// `pcm` is 24 kHz signed 16-bit little-endian mono and is returned as samples. When the answer's
/// `Content-Type` names another format than the one asked for, that format is reported.
///
/// ```swift
/// let tts = OpenAISpeechSynthesizer(
///     configuration: .init(name: "openai", baseURL: "https://api.openai.com/v1", apiKey: key,
///                          model: "gpt-4o-mini-tts", voices: ["alloy", "nova"]),
///     client: .shared, logger: logger)
/// let speech = try await tts.synthesize(SpeechRequest(text: "Hello", format: .mp3), deadline: nil)
/// ```
public struct OpenAISpeechSynthesizer: SpeechSynthesizer {
    /// How to reach the service.
    public struct Configuration: Sendable {
        public var name: String
        /// Base URL up to and including the version, e.g. `https://api.siliconflow.cn/v1`.
        public var baseURL: String
        /// Sent as a bearer token when set and not empty.
        public var apiKey: String?
        public var model: String
        /// The voices offered. When not empty, a request for another voice is `unsupported`.
        public var voices: [String]
        /// The voice of a request that names none; nil for the first of ``voices`` (and with no
        /// voices either, no `voice` is sent and the service picks).
        public var defaultVoice: String?
        /// Longest time one request may take, head and body; a caller's earlier deadline wins.
        public var timeout: Duration
        /// Largest audio file accepted.
        public var maxResponseBytes: Int

        public init(
            name: String, baseURL: String, apiKey: String?, model: String, voices: [String] = [], defaultVoice: String? = nil,
            timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 << 20
        ) {
            self.name = name
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.model = model
            self.voices = voices
            self.defaultVoice = defaultVoice
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// The sample rate of OpenAI's `pcm` answers.
    public static let pcmSampleRate = 24_000

    public let configuration: Configuration
    private let service: ServiceClient
    private let logger: Logger

    public var name: String { configuration.name }
    public var voices: [String] { configuration.voices }

    public init(configuration: Configuration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.service = ServiceClient(
            name: configuration.name, client: client, apiKey: configuration.apiKey, timeout: configuration.timeout,
            maxResponseBytes: configuration.maxResponseBytes)
        self.logger = logger
    }

    public func synthesize(_ request: SpeechRequest, deadline: ContinuousClock.Instant?) async throws -> SynthesizedSpeech {
        guard request.text.contains(where: { !$0.isWhitespace }) else { throw SpeechError.badInput("nothing to say") }
        let voice = request.voice ?? configuration.defaultVoice ?? configuration.voices.first
        if let voice, !configuration.voices.isEmpty, !configuration.voices.contains(voice) {
            throw SpeechError.unsupported("\(name) has no voice \(voice)")
        }
        let asked = Self.responseFormat(for: request.format)
        do {
            let answer = try await service.post(
                url: OpenAICompatibleProvider.join(configuration.baseURL, "audio/speech"), contentType: "application/json",
                accept: "audio/*, application/octet-stream, application/json",
                body: Self.requestBody(request, model: configuration.model, voice: voice, format: asked),
                deadline: deadline)
            return try speech(from: answer, asked: asked)
        } catch let error as SpeechError {
            logger.debug("speech synthesis failed", metadata: ["hub.speech.provider": "\(name)", "hub.speech.error": "\(error)"])
            throw error
        }
    }

    // MARK: Internals

    /// The `response_format` asked for: the caller's format, or WAV for Ogg Vorbis.
    static func responseFormat(for format: AudioFormat) -> AudioFormat {
        format == .ogg ? .wav : format
    }

    static func requestBody(_ request: SpeechRequest, model: String, voice: String?, format: AudioFormat) -> [UInt8] {
        var fields: [String: JSONValue] = [
            "model": .string(model), "input": .string(request.text), "response_format": .string(format.rawValue),
            "speed": .double(request.speed.isFinite ? min(max(request.speed, 0.25), 4) : 1),
        ]
        if let voice { fields["voice"] = .string(voice) }
        return Array(JSONValue.object(fields).compactJSON.utf8)
    }

    private func speech(from answer: ServiceClient.Answer, asked: AudioFormat) throws -> SynthesizedSpeech {
        let body = answer.body
        guard body.readableBytes > 0 else { throw SpeechError.malformed("\(name): empty answer") }
        let contentType = answer.headers.first(name: "Content-Type")
        let media = contentType.map(MediaType.init)
        switch media?.type {
        case .some(let type) where type.hasPrefix("audio/"):
            break
        case nil, .some("application/octet-stream"):
            // Not labelled as audio: make sure it is not an error in JSON.
            if let first = body.readableBytesView.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{"),
                (try? JSONValue(parsing: body.readableBytesView)) != nil
            {
                throw SpeechError.malformed("\(name): JSON where audio was expected: \(OpenAICompatibleProvider.errorMessage(from: body))")
            }
        case .some(let type):
            let detail = type.contains("json") ? ": " + OpenAICompatibleProvider.errorMessage(from: body) : ""
            throw SpeechError.malformed("\(name): \(type) where audio was expected\(detail)")
        }
        let format = media.flatMap { Self.format(of: $0) } ?? asked
        guard format == .pcm else {
            // A 200 labelled as audio may still be anything (a proxy's page, a truncated file):
            // unreadable audio is this provider's failure, so the router tries the next one,
            // instead of a success that every caller then fails to decode or plays as noise.
            let bytes = Array(body.readableBytesView)
            do {
                _ = try AudioDecoder().decode(bytes)
            } catch {
                throw SpeechError.malformed("\(name): the answer is not readable audio (\((error as? SpeechError)?.message ?? "\(error)"))")
            }
            return .encoded(bytes, format)
        }
        guard body.readableBytes % 2 == 0 else { throw SpeechError.malformed("\(name): PCM answer with an odd number of bytes") }
        var samples = [Int16]()
        samples.reserveCapacity(body.readableBytes / 2)
        var bytes = body.readableBytesView[...]
        while let low = bytes.popFirst(), let high = bytes.popFirst() {
            samples.append(Int16(bitPattern: UInt16(low) | UInt16(high) << 8))
        }
        let rate = media?.parameter("rate").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? Self.pcmSampleRate
        let channels = media?.parameter("channels").flatMap { Int($0) }.flatMap { (1...8).contains($0) ? $0 : nil } ?? 1
        guard samples.count % channels == 0 else { throw SpeechError.malformed("\(name): PCM answer with a partial frame") }
        return .pcm(PCMAudio(samples: samples, sampleRate: rate, channels: channels))
    }

    /// The format a media type names without doubt, or nil (for `audio/*` in general, or
    /// `application/octet-stream`).
    private static func format(of media: MediaType) -> AudioFormat? {
        switch media.type {
        case "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave": .wav
        case "audio/mpeg", "audio/mp3": .mp3
        case "audio/flac", "audio/x-flac": .flac
        case "audio/opus": .opus
        case "audio/ogg": media.parameter("codecs")?.lowercased() == "opus" ? .opus : nil
        case "audio/pcm", "audio/l16": .pcm
        default: nil
        }
    }

    /// A `Content-Type` value: its lower-cased type and its parameters.
    private struct MediaType {
        var type: String
        var parameters: [HeaderParameters.Parameter]

        init(_ value: String) {
            let bytes = Array(value.utf8)
            let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
            type = String(decoding: bytes[..<end], as: UTF8.self).lowercased().filter { $0 != " " && $0 != "\t" }
            parameters = HeaderParameters.parse(bytes[end...]) ?? []
        }

        func parameter(_ name: String) -> String? { parameters.last { $0.name == name }?.value }
    }
}
