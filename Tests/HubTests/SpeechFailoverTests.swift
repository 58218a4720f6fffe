// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub

/// A remote speech service (OpenAI's shape, on loopback) that fails in each way it can, ahead of
/// the in-process providers: the answer comes from the in-process one, and `/metrics` records the
/// failed attempts with their outcome.
@Suite(.timeLimit(.minutes(3)))
struct SpeechFailoverTests {
    /// The `outcome` label of `hub_speech_request_duration_seconds` for a failure.
    static func outcome(_ failure: FakeSpeechService.Failure) -> String {
        switch failure {
        case .serverError: "http_500"
        case .rateLimited: "http_429"
        case .stall: "timeout"
        case .garbage: "malformed"
        }
    }

    /// The remote provider's `timeout`: small for the stall, else ample, so that a loaded machine
    /// cannot turn a 500 or a 429 into a timeout.
    static func timeout(_ failure: FakeSpeechService.Failure) -> String {
        failure == .stall ? "0.5" : "10"
    }

    /// Polls `/metrics` until the `kind` attempts include every key of `wanted` (bounded).
    func waitForAttempts(_ client: any TestClientProtocol, kind: String, _ wanted: [String]) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let attempts = SpeechHTTP.speechAttempts(in: text, kind: kind)
            if wanted.allSatisfy({ (attempts[$0] ?? 0) > 0 }) { return attempts }
            guard ContinuousClock.now < deadline else { throw Unmet(what: "\(wanted) in \(attempts)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test(arguments: FakeSpeechService.Failure.allCases)
    func synthesisFallsBackToESpeak(_ failure: FakeSpeechService.Failure) async throws {
        let service = FakeSpeechService(failure)
        try await service.run { base in
            let extra = """
                tts: { providers: [ { name: remote, kind: openai, base_url: "\(base)", timeout: \(Self.timeout(failure)), retry_attempts: 0 }, { name: espeak, kind: espeak-ng } ] }
                """
            let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { _, client in
                let started = ContinuousClock.now
                let response = try await SpeechHTTP.synthesize(client, ["text": "hello world"])
                let took = ContinuousClock.now - started
                #expect(response.status == .ok, "\(String(buffer: response.body).prefix(300))")
                #expect(response.headers[HTTPField.Name("X-Speech-Provider")!] == "espeak")
                #expect(response.headers[.contentType] == "audio/wav")
                let audio = try AudioDecoder().decode(Array(response.body.readableBytesView))
                #expect((0.3...5).contains(audio.seconds))
                #expect(service.requests >= 1)
                #expect(took < .seconds(5), "failover took \(took)")
                let attempts = try await waitForAttempts(client, kind: "tts", ["remote/\(Self.outcome(failure))", "espeak/ok"])
                #expect(attempts.keys.filter { $0.hasPrefix("remote/") } == ["remote/\(Self.outcome(failure))"], "\(attempts)")
            }
        }
    }

    @Test(arguments: FakeSpeechService.Failure.allCases)
    func recognitionFallsBackToPocketSphinx(_ failure: FakeSpeechService.Failure) async throws {
        let service = FakeSpeechService(failure)
        try await service.run { base in
            let extra = """
                stt: { providers: [ { name: remote, kind: openai, base_url: "\(base)", timeout: \(Self.timeout(failure)), retry_attempts: 0 }, { name: sphinx, kind: pocketsphinx, pool_size: 1, grammar: \(SpeechHTTP.grammarYAML) } ] }
                """
            let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { _, client in
                let (wav, _) = try await SpeechHTTP.spokenSentence(client)
                let response = try await SpeechHTTP.transcribe(client, multipart: wav, filename: "speech.wav", contentType: "audio/wav")
                #expect(response.status == .ok, "\(String(buffer: response.body).prefix(300))")
                let json = try SpeechHTTP.json(response)
                #expect(json["provider"] == "sphinx")
                #expect(json["text"] == .string(SpeechHTTP.sentence))
                #expect(service.requests >= 1)
                let attempts = try await waitForAttempts(client, kind: "stt", ["remote/\(Self.outcome(failure))", "sphinx/ok"])
                #expect(attempts.keys.filter { $0.hasPrefix("remote/") } == ["remote/\(Self.outcome(failure))"], "\(attempts)")
            }
        }
    }
}
