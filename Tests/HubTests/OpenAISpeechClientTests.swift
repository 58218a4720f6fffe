// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// The official `openai` Python package against the hub's `/v1/audio/speech` and
/// `/v1/audio/transcriptions`, behind a gateway API key (`make test` passes `HUB_TEST_PYTHON`).
@Suite(
    .timeLimit(.minutes(2)),
    .enabled(if: ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"] != nil, "needs HUB_TEST_PYTHON (make test sets it)"))
struct OpenAISpeechClientTests {
    @Test func theOfficialClientSpeaksAndTranscribes() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/openai_client.py").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-speech-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = try TestHub.configuration(
            upstream: nil, databasePath: TestHub.databasePath(), extra: "gateway: { api_keys: [ sk-speech ] }\n" + SpeechHTTP.grammarSTT)
        try await TestHub.run(configuration) { port, _ in
            let output = try await HelperProcess.run(python, [script, "speech", "http://127.0.0.1:\(port)/v1", "sk-speech", folder.path])
            let found = try JSONValue(parsing: output)
            for format in [AudioFormat.wav, .mp3, .flac] {
                let entry = found["speech_\(format.rawValue)"]
                guard AudioEncoder.canEncode(format) else {
                    #expect(entry?["status"] == 400, "\(format): \(entry?.compactJSON ?? "missing")")
                    continue
                }
                #expect(entry?["content_type"] == .string(format.mediaType), "\(format): \(entry?.compactJSON ?? "missing")")
                let path = try #require(entry?["path"]?.stringValue, "\(format): \(entry?.compactJSON ?? "missing")")
                let audio = try AudioDecoder().decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                #expect((0.5...5).contains(audio.seconds), "\(format): \(audio.seconds) s")
            }
            #expect(found["transcription"] == .string(SpeechHTTP.sentence), "\(found.compactJSON)")
            #expect(found["transcription_text"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) == SpeechHTTP.sentence)
            #expect(found["empty_input"]?["status"] == 400, "\(found["empty_input"]?.compactJSON ?? "missing")")
            #expect(found["empty_input"]?["param"] == "input")
            #expect(found["empty_input"]?["type"] == "invalid_request_error")
            for name in ["speech_auth", "transcription_auth"] {
                #expect(found[name]?["status"] == 401, "\(name): \(found[name]?.compactJSON ?? "missing")")
                #expect(found[name]?["code"] == "invalid_api_key", "\(name)")
                #expect(found[name]?["type"] == "invalid_request_error", "\(name)")
            }
        }
    }
}
