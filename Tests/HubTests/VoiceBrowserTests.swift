// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HubTestSupport
import Testing

@testable import Hub

/// The chat page's microphone in a real browser: headless Chromium whose fake microphone plays a
/// WAV of espeak-ng saying a sentence of the PocketSphinx grammar, driven by selenium
/// (`Support/voice_browser.py`) as in ``WebBrowserTests``. The page talks to the live voice door,
/// the answer comes from an upstream on loopback sentence by sentence, and the page plays it.
/// Screenshots land in `.build/test-output/voice-browser/`.
@Suite(.serialized, .timeLimit(.minutes(3)), .needsBrowser)
struct VoiceBrowserTests {
    static let token = "br0wser-v0ice"

    static func outputFolder(_ name: String) -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-output/voice-browser/\(name)").path
    }

    /// Writes the WAV the fake microphone plays: ``VoiceDoorTests/sentence`` with half a second of
    /// silence before it and a second after; returns its path and length in seconds.
    static func utterance(in folder: String) async throws -> (path: String, seconds: Double) {
        let audio = try await VoiceDoorTests.speech(VoiceDoorTests.sentence, lead: 0.5, tail: 1.0)
        let path = "\(folder)/utterance.wav"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(try AudioEncoder().encode(audio, as: .wav)).write(to: URL(fileURLWithPath: path))
        return (path, audio.seconds)
    }

    /// Runs the browser script against a hub with PocketSphinx on the grammar, the given `voice:`
    /// and `web:` sections, and a ``SentenceUpstream``; returns its findings.
    func drive(
        name: String, voice: String, web: String, upstream: SentenceUpstream = SentenceUpstream(),
        arguments: @escaping @Sendable (_ wav: String, _ seconds: Double) -> [String]
    ) async throws -> JSONValue {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/voice_browser.py").path
        let folder = Self.outputFolder(name)
        try? FileManager.default.removeItem(atPath: folder)
        let (wav, seconds) = try await Self.utterance(in: folder)
        return try await upstream.run { base in
            let extra = """
                stt: { providers: [ { name: sphinx, kind: pocketsphinx, pool_size: 2, grammar: "\(VoiceDoorTests.grammar)" } ] }
                voice: \(voice)
                web: \(web)
                """
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
            return try await TestHub.run(configuration) { port, _ in
                let common = [
                    "--url", "http://127.0.0.1:\(port)/", "--screenshot-dir", folder, "--wav", wav, "--wav-seconds", String(format: "%.2f", seconds),
                ]
                let output = try await HelperProcess.run(python, [script] + common + arguments(wav, seconds), timeout: .seconds(150))
                return try JSONValue(parsing: output.split(separator: "\n").last.map(String.init) ?? "")
            }
        }
    }

    @Test func aPersonTalksHoldingAndClickingTheMicrophoneInterruptsAnAnswerAndHearsTypedAnswers() async throws {
        let upstream = SentenceUpstream()
        let found = try await drive(
            name: "conversation", voice: "{ access_token: \(Self.token) }", web: "{ access_token: \(Self.token) }", upstream: upstream
        ) { _, _ in
            [
                "--token", Self.token, "--transcript", VoiceDoorTests.sentence, "--answer", upstream.answer,
                "--prompt", "Please read this answer aloud",
            ]
        }
        #expect(found["hold_transcript"]?.stringValue?.contains(VoiceDoorTests.sentence) == true)
        #expect(found["hold_answer"]?.stringValue?.contains(upstream.answer) == true)
        #expect(found["hold_frames_played"]?.int64Value ?? 0 > 0)
        #expect(found["toggle_transcript"]?.stringValue?.contains(VoiceDoorTests.sentence) == true)
        #expect(found["barge_in_answer"]?.stringValue?.contains(upstream.answer) == true)
        #expect(found["interrupted_answers"] == 1)
        #expect(found["voice_user_messages"] == 3)
        #expect(found["stats"]?["aborts"] == 1)
        #expect(found["clips_played"]?.int64Value ?? 0 >= 1)
        // The voice turns reached the engine as one session: the last one's request carries the
        // first turn as history (the interrupted turn is not stored).
        let said = { (request: [(role: String, content: String)]) in
            request.filter { $0.role == "user" && $0.content == VoiceDoorTests.sentence }.count
        }
        let voiceRequests = upstream.requests.filter { said($0) > 0 }
        #expect(voiceRequests.count >= 3)
        #expect(voiceRequests.last.map(said) ?? 0 >= 2)
        // The page's voice turns are its web session's: the typed prompt's request carries them.
        let typed = upstream.requests.last { $0.last?.content == "Please read this answer aloud" }
        #expect(typed.map(said) ?? 0 >= 2, "the typed turn's history lacks the spoken turns")
        let folder = Self.outputFolder("conversation")
        for name in ["hold.png", "voice.png", "speaker.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name)"), "\(name)")
        }
    }

    @Test func aBlockedMicrophoneAndARefusedConnectionAreShownAsNotices() async throws {
        let found = try await drive(name: "refusal", voice: "{ access_token: not-the-page-token }", web: "{}") { _, _ in ["--refusal"] }
        #expect(found["denied_notice"]?.stringValue?.contains("microphone is blocked") == true)
        #expect(found["refused_notice"]?.stringValue?.contains("refused the voice connection") == true)
        let folder = Self.outputFolder("refusal")
        for name in ["denied.png", "refused.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name)"), "\(name)")
        }
    }
}
