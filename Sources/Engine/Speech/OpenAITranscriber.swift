// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import NIOCore

/// A speech recognizer speaking the OpenAI `POST /audio/transcriptions` protocol: OpenAI itself,
/// SiliconFlow, and Whisper or SenseVoice servers that copy it.
///
/// The audio goes up as the `file` part of a `multipart/form-data` body, with `model`, the
/// `language` hint when there is one, and `response_format=json`. Encoded audio is sent as it is,
/// named after its format (sniffed from its first bytes when the sender did not say; Ogg Opus is
/// named `.ogg`, an extension every such service takes); samples are sent as a 16-bit WAV file.
/// The answer is `{"text": …}`; the `language` and `duration` of a `verbose_json` answer are kept
/// (a language name such as `english` becomes its code, `en`).
///
/// ```swift
/// let asr = OpenAITranscriber(
///     configuration: .init(name: "siliconflow", baseURL: "https://api.siliconflow.cn/v1", apiKey: key,
///                          model: "FunAudioLLM/SenseVoiceSmall"),
///     client: .shared, logger: logger)
/// let transcript = try await asr.transcribe(.encoded(bytes, format: .mp3), language: "zh", deadline: nil)
/// ```
public struct OpenAITranscriber: SpeechRecognizer {
    /// How to reach the service.
    public struct Configuration: Sendable {
        public var name: String
        /// Base URL up to and including the version, e.g. `https://api.openai.com/v1`.
        public var baseURL: String
        /// Sent as a bearer token when set and not empty.
        public var apiKey: String?
        public var model: String
        /// Longest time one request may take, head and body; a caller's earlier deadline wins.
        public var timeout: Duration
        /// Largest answer accepted.
        public var maxResponseBytes: Int
        /// Largest audio file sent (OpenAI takes 25 MB); larger audio is `unsupported` here.
        public var maxUploadBytes: Int

        public init(
            name: String, baseURL: String, apiKey: String?, model: String, timeout: Duration = .seconds(60),
            maxResponseBytes: Int = 1 << 20, maxUploadBytes: Int = 25 << 20
        ) {
            self.name = name
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.model = model
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
            self.maxUploadBytes = maxUploadBytes
        }
    }

    public let configuration: Configuration
    private let service: ServiceClient
    private let logger: Logger

    public var name: String { configuration.name }

    public init(configuration: Configuration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.service = ServiceClient(
            name: configuration.name, client: client, apiKey: configuration.apiKey, timeout: configuration.timeout,
            maxResponseBytes: configuration.maxResponseBytes)
        self.logger = logger
    }

    public func transcribe(_ audio: AudioInput, language: String?, deadline: ContinuousClock.Instant?) async throws -> Transcript {
        let upload = try Self.upload(for: audio)
        guard upload.bytes.count <= configuration.maxUploadBytes else {
            throw SpeechError.unsupported("\(name) takes at most \(configuration.maxUploadBytes) bytes of audio, got \(upload.bytes.count)")
        }
        var form = MultipartFormWriter()
        form.addFile(name: "file", filename: upload.filename, contentType: upload.contentType, bytes: upload.bytes)
        form.addField(name: "model", value: configuration.model)
        if let language, !language.isEmpty { form.addField(name: "language", value: language) }
        form.addField(name: "response_format", value: "json")
        let contentType = form.contentType
        do {
            let answer = try await service.post(
                url: OpenAICompatibleProvider.join(configuration.baseURL, "audio/transcriptions"), contentType: contentType,
                accept: "application/json", body: form.finish(), deadline: deadline)
            return try transcript(from: answer.body)
        } catch let error as SpeechError {
            logger.debug("transcription failed", metadata: ["hub.speech.provider": "\(name)", "hub.speech.error": "\(error)"])
            throw error
        }
    }

    // MARK: Internals

    /// The file sent: its bytes, name and media type.
    struct Upload: Sendable, Hashable {
        var bytes: [UInt8]
        var filename: String
        var contentType: String
    }

    static func upload(for audio: AudioInput) throws -> Upload {
        switch audio {
        case .pcm(let pcm):
            guard pcm.frameCount > 0 else { throw SpeechError.badInput("no audio") }
            return Upload(bytes: try AudioEncoder().encode(pcm, as: .wav), filename: "audio.wav", contentType: AudioFormat.wav.mediaType)
        case .encoded(let bytes, let declared):
            guard !bytes.isEmpty else { throw SpeechError.badInput("no audio") }
            switch declared ?? sniffFormat(bytes) {
            case .pcm:
                // Raw samples of a rate nobody wrote down: a file service cannot read them.
                throw SpeechError.unsupported("raw PCM without a sample rate cannot be sent as a file")
            case .opus:
                return Upload(bytes: bytes, filename: "audio.ogg", contentType: AudioFormat.opus.mediaType)
            case .some(let format):
                return Upload(bytes: bytes, filename: "audio.\(format.fileExtension)", contentType: format.mediaType)
            case nil:
                // Unrecognized: the service may still know it.
                return Upload(bytes: bytes, filename: "audio", contentType: "application/octet-stream")
            }
        }
    }

    /// The format of an audio file from its first bytes, when they say.
    static func sniffFormat(_ bytes: [UInt8]) -> AudioFormat? {
        func starts(with text: String, at offset: Int = 0) -> Bool {
            let pattern = Array(text.utf8)
            return bytes.count >= offset + pattern.count && bytes[offset..<(offset + pattern.count)].elementsEqual(pattern)
        }
        if starts(with: "RIFF"), starts(with: "WAVE", at: 8) { return .wav }
        if starts(with: "fLaC") { return .flac }
        if starts(with: "OggS") { return starts(with: "OpusHead", at: 28) ? .opus : .ogg }
        if starts(with: "ID3") { return .mp3 }
        // An MPEG audio frame header: 11 set sync bits, layer III.
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] & 0xE0 == 0xE0, bytes[1] & 0x06 == 0x02 { return .mp3 }
        return nil
    }

    private func transcript(from body: ByteBuffer) throws -> Transcript {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body.readableBytesView)
        } catch {
            throw SpeechError.malformed("\(name): answer is not JSON (\(error.reason))")
        }
        guard let text = json["text"]?.stringValue else {
            throw SpeechError.malformed("\(name): answer has no text")
        }
        let language = json["language"]?.stringValue.flatMap { $0.isEmpty ? nil : LanguageNames.code(for: $0) }
        let duration = json["duration"]?.doubleValue.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        return Transcript(text: String(text.trimmingSpaces), language: language, duration: duration)
    }
}
