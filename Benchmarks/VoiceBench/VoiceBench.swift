// SPDX-License-Identifier: Apache-2.0
import Adapters
import ArgumentParser
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// Drives the hub's voice door as xiaozhi devices do and measures what a user waits for: the time
/// from the last frame of speech sent to the first frame of the answer's audio received.
///
/// Each device connects, says hello (Opus, 16 kHz, 60 ms) and speaks espeak-ng's rendering of a
/// sentence at real time, `--turns` times. In `manual` listening the utterance ends with `listen
/// stop` right after its last frame; in `auto` listening the device keeps streaming silence at real
/// time and the hub's VAD has to notice that the speech ended. `speech-server` runs an instant
/// remote speech service (OpenAI's `/audio/speech` and `/audio/transcriptions` shapes) for runs
/// with remote speech.
///
/// ```
/// VoiceBench run --url ws://127.0.0.1:8080/xiaozhi/v1/ --token T --mode manual --devices 4 --turns 5
/// VoiceBench speech-server --port 0 --transcript "hello world what time is it"
/// ```
@main
struct VoiceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Voice door latency: last speech frame to first answer audio.", subcommands: [Run.self, SpeechServer.self])
}

extension VoiceBench {
    struct Run: AsyncParsableCommand {
        @Option(help: "The voice door's URL.") var url: String
        @Option(help: "The voice access token.") var token: String?
        @Option(help: "manual or auto.") var mode: String = "manual"
        @Option(help: "Devices at once.") var devices: Int = 1
        @Option(help: "Turns per device.") var turns: Int = 5
        @Option(help: "What each device says.") var sentence: String = "hello world what time is it"
        @Option(help: "A label for the JSON line.") var label: String?
        @Flag(help: "Print one JSON line instead of a table.") var json = false

        func run() async throws {
            let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: sentence, voice: "en-us"), deadline: nil)
            let speech = try Resampler().resample(try SpeechAudio.pcm(from: spoken), to: 16_000)
            let lead = [Int16](repeating: 0, count: 16_000 * 3 / 10)
            let packets = try OpusCodec(sampleRate: 16_000, frameMilliseconds: 60).encode(PCMAudio(samples: lead + speech.samples, sampleRate: 16_000))
            let silence = try OpusCodec(sampleRate: 16_000, frameMilliseconds: 60).encode(frame: [Int16](repeating: 0, count: 960)[...])
            let results = Collected()
            let started = ContinuousClock.now
            let (devices, url, token, mode, turns) = (self.devices, self.url, self.token, self.mode, self.turns)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<devices {
                    group.addTask {
                        // Devices start spread over one utterance, as real ones would.
                        try await Task.sleep(for: .milliseconds(Int64(index * 1_700 / max(1, devices))))
                        do {
                            let latencies = try await Device(
                                url: url, token: token, deviceID: String(format: "be:7c:%02x:%02x:00:01", index / 256, index % 256)
                            ).speak(packets: packets, silence: silence, mode: mode, turns: turns)
                            results.state.withLock { $0.latencies += latencies }
                        } catch {
                            results.state.withLock { $0.errors.append("\(error)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            let final = results.state.withLock { $0 }
            let sorted = final.latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
            if json {
                let line: [String: Any] = [
                    "label": label ?? "voice-\(mode)-\(devices)", "mode": mode, "devices": devices, "turns": sorted.count,
                    "errors": final.errors.count, "p50_ms": percentile(0.5), "p90_ms": percentile(0.9), "p99_ms": percentile(0.99),
                    "max_ms": (sorted.last ?? .nan) * 1000, "seconds": Double(elapsed.components.seconds),
                ]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(mode), \(devices) device(s): \(sorted.count) turns, \(final.errors.count) errors")
                print(String(format: "  last speech frame → first answer audio ms: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f", percentile(0.5), percentile(0.9), percentile(0.99), (sorted.last ?? .nan) * 1000))
                for error in final.errors.prefix(5) { print("  error: \(error)") }
            }
            if !final.errors.isEmpty { throw ExitCode(1) }
        }
    }

    struct Results {
        var latencies: [Double] = []
        var errors: [String] = []
    }

    final class Collected: Sendable {
        let state = Mutex(Results())
    }

    /// One device: a WebSocket, its turns, and the latency of each.
    struct Device {
        let url: String
        let token: String?
        let deviceID: String

        struct Failed: Error, CustomStringConvertible {
            let description: String
        }

        func speak(packets: [[UInt8]], silence: [UInt8], mode: String, turns: Int) async throws -> [Double] {
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            headers[HTTPField.Name("Protocol-Version")!] = "1"
            headers[HTTPField.Name("Device-Id")!] = deviceID
            headers[HTTPField.Name("Client-Id")!] = UUID().uuidString
            var logger = Logger(label: "voice-bench")
            logger.logLevel = .critical
            let inbox = DeviceInbox()
            let latencies = Mutex([Double]())
            let failure = Mutex<(any Error)?>(nil)
            _ = try await WebSocketClient.connect(url: url, configuration: .init(additionalHeaders: headers), logger: logger) { inbound, outbound, _ in
                let reader = Task {
                    for try await message in inbound.messages(maxSize: 1 << 20) { inbox.receive(message) }
                }
                defer { reader.cancel() }
                do {
                    try await outbound.write(
                        .text(#"{"type":"hello","version":1,"transport":"websocket","audio_params":{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":60}}"#))
                    try await inbox.wait(for: "hello", since: 0)
                    for _ in 0..<turns {
                        let mark = inbox.mark()
                        try await outbound.write(.text(#"{"session_id":"","type":"listen","state":"start","mode":"\#(mode)"}"#))
                        var next = ContinuousClock.now
                        for packet in packets {
                            try await Task.sleep(until: next)
                            try await outbound.write(.binary(ByteBuffer(bytes: packet)))
                            next += .milliseconds(60)
                        }
                        let lastSpeech = ContinuousClock.now
                        if mode == "manual" {
                            try await outbound.write(.text(#"{"session_id":"","type":"listen","state":"stop"}"#))
                        } else {
                            // Silence at real time until the answer starts.
                            while !inbox.hasAudio(since: mark), ContinuousClock.now - lastSpeech < .seconds(10) {
                                try await Task.sleep(until: next)
                                try await outbound.write(.binary(ByteBuffer(bytes: silence)))
                                next += .milliseconds(60)
                            }
                        }
                        let firstAudio = try await inbox.firstAudio(since: mark)
                        let waited = firstAudio - lastSpeech
                        latencies.withLock { $0.append(Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18) }
                        try await inbox.wait(for: "tts stop", since: mark)
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    try await outbound.close(.normalClosure, reason: nil)
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            return latencies.withLock { $0 }
        }
    }

    /// What a device received, with arrival times.
    final class DeviceInbox: Sendable {
        private let items = Mutex([(kind: String, at: ContinuousClock.Instant)]())

        func receive(_ message: WebSocketMessage) {
            let kind: String
            switch message {
            case .binary: kind = "audio"
            case .text(let text):
                if text.contains(#""type":"hello""#) {
                    kind = "hello"
                } else if text.contains(#""type":"tts""#), text.contains(#""state":"stop""#) {
                    kind = "tts stop"
                } else if text.contains(#""type":"error""#) {
                    kind = "error: \(text)"
                } else {
                    kind = "other"
                }
            }
            items.withLock { $0.append((kind, .now)) }
        }

        func mark() -> Int { items.withLock { $0.count } }

        func hasAudio(since mark: Int) -> Bool { items.withLock { $0.dropFirst(mark).contains { $0.kind == "audio" } } }

        func firstAudio(since mark: Int) async throws -> ContinuousClock.Instant {
            try await until("the first answer audio", since: mark) { $0.kind == "audio" }
        }

        func wait(for kind: String, since mark: Int) async throws {
            _ = try await until(kind, since: mark) { $0.kind == kind }
        }

        private func until(_ what: String, since mark: Int, _ matches: ((kind: String, at: ContinuousClock.Instant)) -> Bool) async throws
            -> ContinuousClock.Instant
        {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let found = items.withLock { items -> ContinuousClock.Instant? in
                    if let error = items.dropFirst(mark).first(where: { $0.kind.hasPrefix("error") }) { return error.at }
                    return items.dropFirst(mark).first(where: matches)?.at
                }
                if let found {
                    if let error = items.withLock({ $0.dropFirst(mark).first { $0.kind.hasPrefix("error") } }) {
                        throw Device.Failed(description: error.kind)
                    }
                    return found
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            throw Device.Failed(description: "timed out waiting for \(what)")
        }
    }

    /// An instant remote speech service: `POST /v1/audio/transcriptions` answers the transcript,
    /// `POST /v1/audio/speech` a WAV of the sentence spoken by espeak-ng (made once at start).
    struct SpeechServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "speech-server")
        @Option var port: Int = 0
        @Option var transcript: String = "hello world what time is it"
        @Option var answer: String = "pong"

        func run() async throws {
            let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: answer, voice: "en-us"), deadline: nil)
            let wav = try AudioEncoder().encode(try SpeechAudio.pcm(from: spoken), as: .wav)
            let transcript = self.transcript
            let router = Router()
            router.post("/v1/audio/transcriptions") { request, _ -> Response in
                _ = try await request.body.collect(upTo: 64 << 20)
                let body = try JSONSerialization.data(withJSONObject: ["text": transcript])
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
            router.post("/v1/audio/speech") { request, _ -> Response in
                _ = try await request.body.collect(upTo: 1 << 20)
                return Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: wav)))
            }
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: { channel in
                    FileHandle.standardOutput.write(Data("speech server listening on \(channel.localAddress?.port ?? 0)\n".utf8))
                })
            try await app.runService()
        }
    }
}
