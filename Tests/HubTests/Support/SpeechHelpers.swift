// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Requests to the hub's speech routes and checks on what they answer, for the speech suites.
enum SpeechHTTP {
    static let sentence = "hello world what time is it"

    /// A JSGF grammar of four sentences, `sentence` among them, as a YAML double-quoted string.
    static let grammarYAML =
        ##""#JSGF V1.0;\ngrammar hub;\npublic <sentence> = hello world what time is it | good morning how are you | please turn on the light | tell me a joke;""##

    /// `stt:` with PocketSphinx on that grammar (one decoder).
    static let grammarSTT = "stt: { providers: [ { name: sphinx, kind: pocketsphinx, pool_size: 1, grammar: \(grammarYAML) } ] }"

    /// POSTs `body` to `uri` with `contentType`.
    static func post(_ client: any TestClientProtocol, _ uri: String, contentType: String, body: [UInt8], headers extra: HTTPFields = [:])
        async throws -> TestResponse
    {
        var headers = extra
        headers[.contentType] = contentType
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    static func postJSON(_ client: any TestClientProtocol, _ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post(client, uri, contentType: "application/json", body: Array(json.utf8), headers: headers)
    }

    /// `POST /api/v1/tts/synthesize` with `fields`.
    static func synthesize(_ client: any TestClientProtocol, _ fields: JSONValue) async throws -> TestResponse {
        try await postJSON(client, "/api/v1/tts/synthesize", fields.compactJSON)
    }

    /// The sentence spoken by the hub (en-us WAV), decoded.
    static func spokenSentence(_ client: any TestClientProtocol, _ text: String = sentence) async throws -> (wav: [UInt8], pcm: PCMAudio) {
        let response = try await synthesize(client, ["text": .string(text), "voice": "en-us"])
        try #require(response.status == .ok, "synthesis: \(String(buffer: response.body))")
        let bytes = Array(response.body.readableBytesView)
        return (bytes, try AudioDecoder().decode(bytes))
    }

    /// A multipart form with `bytes` as its `file` part (and more fields).
    static func form(file bytes: [UInt8], filename: String, contentType: String, fields: [(String, String)] = []) -> (contentType: String, body: [UInt8]) {
        var writer = MultipartFormWriter()
        for (name, value) in fields { writer.addField(name: name, value: value) }
        writer.addFile(name: "file", filename: filename, contentType: contentType, bytes: bytes)
        let type = writer.contentType
        return (type, writer.finish())
    }

    /// `POST /api/v1/asr/transcribe` with `bytes` as a multipart `file`.
    static func transcribe(_ client: any TestClientProtocol, multipart bytes: [UInt8], filename: String, contentType: String) async throws -> TestResponse {
        let form = form(file: bytes, filename: filename, contentType: contentType, fields: [("language", "en")])
        return try await post(client, "/api/v1/asr/transcribe", contentType: form.contentType, body: form.body)
    }

    /// `POST /api/v1/asr/transcribe?language=en` with `bytes` as the body.
    static func transcribe(_ client: any TestClientProtocol, bare bytes: [UInt8], contentType: String = "audio/wav") async throws -> TestResponse {
        try await post(client, "/api/v1/asr/transcribe?language=en", contentType: contentType, body: bytes)
    }

    /// The body as JSON.
    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue(parsing: response.body.readableBytesView)
    }

    /// Checks that `response` is a JSON error `{"error":{"message":…}}` with `status`.
    static func expectError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "\(what): \(response.status) \(String(buffer: response.body).prefix(300))", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(what): content type", sourceLocation: sourceLocation)
        let message = (try? json(response))?["error"]?["message"]?.stringValue
        #expect(message?.isEmpty == false, "\(what): no error message in \(String(buffer: response.body).prefix(300))", sourceLocation: sourceLocation)
    }

    /// Checks that the hub still answers `/health` with 200.
    static func expectServing(_ client: any TestClientProtocol, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await client.execute(uri: "/health", method: .get)
        #expect(response.status == .ok, "the hub stopped serving", sourceLocation: sourceLocation)
    }

    /// A 16-bit PCM WAV header for `frames` mono 16 kHz frames, followed by `payload`: a header may
    /// claim more than follows.
    static func wav(claimingFrames frames: UInt32, sampleRate: UInt32 = 16_000, payload: [UInt8]) -> [UInt8] {
        func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let dataBytes = frames &* 2
        var bytes = Array("RIFF".utf8) + le32(36 &+ dataBytes) + Array("WAVE".utf8)
        bytes += Array("fmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(sampleRate) + le32(sampleRate * 2) + le16(2) + le16(16)
        bytes += Array("data".utf8) + le32(dataBytes) + payload
        return bytes
    }

    /// Deterministic noise bytes.
    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// `audio` with each sample on two channels.
    static func stereo(_ audio: PCMAudio) -> PCMAudio {
        var samples = [Int16]()
        samples.reserveCapacity(audio.samples.count * 2)
        for sample in audio.samples { samples += [sample, sample] }
        return PCMAudio(samples: samples, sampleRate: audio.sampleRate, channels: 2)
    }

    /// The recorded values of `hub_speech_request_duration_seconds_count` for `kind`, keyed by
    /// `provider/outcome`.
    static func speechAttempts(in metrics: String, kind: String) -> [String: Int] {
        var found = [String: Int]()
        for line in metrics.split(separator: "\n") where line.hasPrefix("hub_speech_request_duration_seconds_count{") {
            guard line.contains("kind=\"\(kind)\""), let close = line.lastIndex(of: "}") else { continue }
            let labels = line[line.index(after: line.firstIndex(of: "{")!)..<close]
            func label(_ name: String) -> String {
                guard let range = labels.range(of: "\(name)=\"") else { return "" }
                return String(labels[range.upperBound...].prefix { $0 != "\"" })
            }
            let value = Int(Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) ?? 0)
            found["\(label("provider"))/\(label("outcome"))", default: 0] += value
        }
        return found
    }
}
