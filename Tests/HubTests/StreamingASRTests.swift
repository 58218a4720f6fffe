// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing

@testable import Hub

/// `/api/v1/stream` over a real WebSocket: the hub (port 0) with PocketSphinx on a grammar, fed
/// espeak-ng speech as a client records it.
@Suite(.timeLimit(.minutes(2)))
struct StreamingASRTests {
    static let token = "v01c3"
    static let sentences = ["hello world what time is it", "good morning how are you"]

    /// Runs a hub with the voice token and a one-decoder PocketSphinx on the test grammar.
    func withHub(voice: String = "", _ body: @escaping @Sendable (_ port: Int, _ client: any TestClientProtocol) async throws -> Void) async throws {
        let extra = "voice: { access_token: \(Self.token) \(voice) }\n" + SpeechHTTP.grammarSTT
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: extra)
        try await TestHub.run(configuration, body)
    }

    /// `text` spoken by espeak-ng at 16 kHz, without its leading and trailing silence.
    static func speech(_ text: String) async throws -> [Int16] {
        let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: text, voice: "en-us"), deadline: nil)
        guard case .pcm(let audio) = spoken else { throw SpeechError.malformed("espeak returned encoded audio") }
        let samples = try Resampler(quality: .best).resample(audio, to: 16_000).samples
        let first = samples.firstIndex { abs(Int($0)) > 100 } ?? 0
        let last = samples.lastIndex { abs(Int($0)) > 100 } ?? samples.count - 1
        return Array(samples[first...last])
    }

    /// Quiet with ±1 LSB of dither, as from a microphone.
    static func quiet(seconds: Double) -> [Int16] {
        (0..<Int(seconds * 16_000)).map { Int16($0 * 7919 % 3 - 1) }
    }

    /// Little-endian bytes of `samples`.
    static func bytes(_ samples: some Collection<Int16>) -> [UInt8] {
        samples.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }

    /// Sends `samples` in 100 ms frames, `speed` times faster than real time.
    static func send(_ samples: [Int16], to client: WebChatClient, speed: Double = 2) async throws {
        var start = 0
        while start < samples.count {
            let end = min(samples.count, start + 1_600)
            client.sendBinary(bytes(samples[start..<end]))
            start = end
            try await Task.sleep(for: .milliseconds(Int64(100 / speed)))
        }
    }

    /// Waits until `/api/v1/streaming-stats` counts `active` open streams.
    static func waitForActive(_ client: any TestClientProtocol, _ active: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while try await SpeechHTTP.json(client.execute(uri: "/api/v1/streaming-stats", method: .get))["active"] != .int(Int64(active)) {
            try #require(ContinuousClock.now < deadline, "streams open never became \(active)")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func twoUtterancesGivePartialsThenTwoFinals() async throws {
        let first = try await Self.speech(Self.sentences[0])
        let second = try await Self.speech(Self.sentences[1])
        let audio = Self.quiet(seconds: 0.6) + first + Self.quiet(seconds: 1.2) + second + Self.quiet(seconds: 1.0)
        let firstEnd = 0.6 + Double(first.count) / 16_000
        let secondStart = firstEnd + 1.2
        let truth = [(0.6, firstEnd), (secondStart, secondStart + Double(second.count) / 16_000)]
        try await withHub { port, client in
            let (stream, task) = WebChatClient.connect(port: port, path: "/api/v1/stream?language=en", headers: [.authorization: "Bearer \(Self.token)"])
            defer { task.cancel() }
            try await Self.send(audio, to: stream)
            try await stream.frame("the second final", timeout: .seconds(20)) { frame in
                frame["type"] == "final" && frame["text"] == .string(Self.sentences[1])
            }
            // Nothing more comes: exactly two finals.
            try await Task.sleep(for: .milliseconds(500))
            let frames = stream.frames
            let finals = frames.filter { $0["type"] == "final" }
            #expect(finals.map { $0["text"]?.stringValue } == Self.sentences, "\(frames.map(\.compactJSON))")
            for (final, (start, end)) in zip(finals, truth) {
                let heardStart = try #require(final["start"]?.doubleValue)
                let heardEnd = try #require(final["end"]?.doubleValue)
                #expect(abs(heardStart - start) < 0.15, "start \(heardStart) vs \(start)")
                #expect(heardEnd - end > -0.15 && heardEnd - end < 0.25, "end \(heardEnd) vs \(end)")
            }
            // Partials while the first sentence was spoken, before its final, each a new text.
            let firstFinal = try #require(frames.firstIndex { $0["type"] == "final" })
            let partials = frames[..<firstFinal].filter { $0["type"] == "partial" }.compactMap { $0["text"]?.stringValue }
            #expect(!partials.isEmpty, "\(frames.map(\.compactJSON))")
            #expect(zip(partials, partials.dropFirst()).allSatisfy { $0 != $1 })
            #expect(!frames.contains { $0["type"] == "error" })

            let stats = try await client.execute(uri: "/api/v1/streaming-stats", method: .get) { try SpeechHTTP.json($0) }
            #expect(stats["sessions"] == 1)
            #expect(stats["active"] == 1)
            #expect(stats["finals"] == 2)
            #expect((stats["partials"]?.doubleValue ?? 0) >= Double(partials.count))
            #expect(abs((stats["audio_seconds"]?.doubleValue ?? 0) - Double(audio.count) / 16_000) < 0.01)
            #expect(stats["errors"] == 0)
            stream.close()
            try await stream.waitUntilEnded()
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            // Both recognized while spoken, unless the machine is so slow that the first one's
            // decoder was not free again before the second utterance had been fed whole.
            let finalsByMode = metrics.split(separator: "\n").filter { $0.hasPrefix("hub_voice_stream_finals_total{") }
            let counts: [Double] = finalsByMode.map { line in Double(line.split(separator: " ").last ?? "") ?? 0 }
            #expect(counts.reduce(0, +) == 2, "\(finalsByMode)")
            #expect(finalsByMode.contains { $0.hasPrefix(#"hub_voice_stream_finals_total{mode="live"}"#) }, "\(finalsByMode)")
            #expect(metrics.contains("hub_voice_stream_partials_total"))
            // Once the client has gone, the stream is no longer open.
            try await Self.waitForActive(client, 0)
        }
    }

    @Test func theTokenIsCheckedBeforeTheUpgrade() async throws {
        try await withHub { port, _ in
            let (missing, missingBody) = try await webSocketUpgrade(port: port, path: "/api/v1/stream")
            #expect(missing == 401)
            #expect(missingBody.contains("access token required"))
            let (wrong, _) = try await webSocketUpgrade(port: port, path: "/api/v1/stream", headers: [("Authorization", "Bearer nope")])
            #expect(wrong == 401)
            let (wrongQuery, _) = try await webSocketUpgrade(port: port, path: "/api/v1/stream?token=nope")
            #expect(wrongQuery == 401)
            let (right, _) = try await webSocketUpgrade(port: port, path: "/api/v1/stream", headers: [("Authorization", "Bearer \(Self.token)")])
            #expect(right == 101)
            let (query, _) = try await webSocketUpgrade(port: port, path: "/api/v1/stream?token=\(Self.token)&language=en")
            #expect(query == 101)
        }
    }

    @Test func badFramesGetErrorsAndTheStreamStays() async throws {
        let sentence = try await Self.speech(Self.sentences[0])
        try await withHub { port, client in
            let (stream, task) = WebChatClient.connect(port: port, path: "/api/v1/stream?token=\(Self.token)")
            defer { task.cancel() }
            stream.sendBinary([1, 2, 3])
            let odd = try await stream.frame("error", id: nil)
            #expect(odd["message"]?.stringValue?.contains("even number of bytes") == true, "\(odd.compactJSON)")
            stream.send("not json")
            stream.send(#"{"type":"flush"}"#)
            try await eventually("three errors") { stream.frames.filter { $0["type"] == "error" }.count == 3 }
            // Still listening: speech, then "end" instead of the silence.
            try await Self.send(Self.quiet(seconds: 0.5) + sentence, to: stream, speed: 4)
            stream.send(#"{"type":"end"}"#)
            let final = try await stream.frame("final", id: nil)
            #expect(final["text"] == .string(Self.sentences[0]))
            let stats = try await client.execute(uri: "/api/v1/streaming-stats", method: .get) { try SpeechHTTP.json($0) }
            #expect(stats["errors"] == 3)
            #expect(stats["finals"] == 1)
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"hub_malformed_input_total{door="stream",reason="odd_length"} 1"#))
        }
    }

    @Test func aClientFarAheadOfRealTimeIsClosedWith1008() async throws {
        try await withHub { port, _ in
            let (stream, task) = WebChatClient.connect(port: port, path: "/api/v1/stream?token=\(Self.token)")
            defer { task.cancel() }
            // 12 s of audio at once, in frames of 2 s (64 KiB, the largest allowed).
            let frame = Self.bytes(Self.quiet(seconds: 2.048))
            #expect(frame.count == 64 << 10)
            for _ in 0..<6 { stream.sendBinary(frame) }
            try await stream.waitUntilEnded()
            #expect(stream.closeCode == .policyViolation)
            #expect(stream.frames.contains { $0["message"]?.stringValue?.contains("faster than real time") == true })
        }
    }

    @Test func limitsCloseOrRefuseStreams() async throws {
        try await withHub(voice: ", idle_timeout: 0.5, max_sessions: 1") { port, client in
            // Silent for longer than the idle timeout: closed normally.
            let (idle, idleTask) = WebChatClient.connect(port: port, path: "/api/v1/stream?token=\(Self.token)")
            defer { idleTask.cancel() }
            try await Self.waitForActive(client, 1)
            let (refused, _) = try await webSocketUpgrade(port: port, path: "/api/v1/stream?token=\(Self.token)")
            #expect(refused == 503, "one stream at a time")
            let started = ContinuousClock.now
            try await idle.waitUntilEnded()
            #expect(idle.closeCode == .normalClosure)
            #expect(ContinuousClock.now - started < .seconds(3))
            // A frame beyond 64 KiB: closed with 1009.
            try await Self.waitForActive(client, 0)
            let (big, bigTask) = WebChatClient.connect(port: port, path: "/api/v1/stream?token=\(Self.token)")
            defer { bigTask.cancel() }
            big.sendBinary([UInt8](repeating: 0, count: (64 << 10) + 2))
            try await big.waitUntilEnded()
            #expect(big.closeCode == .messageTooLarge)
            #expect(big.frames.first?["type"] == "error")
        }
    }

    @Test func healthAndStats() async throws {
        try await withHub { _, client in
            let health = try await client.execute(uri: "/api/v1/streaming-health", method: .get) { response in
                #expect(response.status == .ok)
                return try SpeechHTTP.json(response)
            }
            #expect(health == ["status": "ok", "vad": "webrtc", "recognizers": [["name": "sphinx", "live": true, "breaker": "closed"]]])
            let stats = try await client.execute(uri: "/api/v1/streaming-stats", method: .get) { try SpeechHTTP.json($0) }
            #expect(Set(stats.objectValue?.keys.map { $0 } ?? []) == ["sessions", "active", "audio_seconds", "finals", "partials", "errors"])
            #expect(stats.objectValue?.values.allSatisfy { $0.doubleValue == 0 } == true, "\(stats.compactJSON)")
        }
    }
}
