// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A working OpenAI-compatible speech service on loopback: `/v1/audio/transcriptions` answers
/// `{"text": transcript}` after `delay`, `/v1/audio/speech` answers a WAV of `seconds` of a quiet
/// 440 Hz tone per request after `delay`; it counts both and the most requests in flight at once.
final class RemoteSpeechService: Sendable {
    let transcript: String
    let delay: Duration
    let seconds: Double
    private let transcriptions = Atomic<Int>(0)
    private let syntheses = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)

    init(transcript: String, delay: Duration = .milliseconds(50), seconds: Double = 0.6) {
        self.transcript = transcript
        self.delay = delay
        self.seconds = seconds
    }

    var transcriptionRequests: Int { transcriptions.load(ordering: .acquiring) }
    var synthesisRequests: Int { syntheses.load(ordering: .acquiring) }
    var peakConcurrency: Int { peak.load(ordering: .acquiring) }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let samples = (0..<Int(seconds * 16_000)).map { (index: Int) -> Int16 in
            let phase = Double(index) * 2 * Double.pi * 440 / 16_000
            return Int16(2_000 * sin(phase))
        }
        let wav = try AudioEncoder().encode(PCMAudio(samples: samples, sampleRate: 16_000), as: .wav)
        let router = Router()
        router.post("/v1/audio/transcriptions") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 64 << 20)
            self.transcriptions.add(1, ordering: .acquiringAndReleasing)
            try await self.busy { try await Task.sleep(for: self.delay) }
            return Response.json(.ok, ["text": .string(self.transcript)])
        }
        router.post("/v1/audio/speech") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            self.syntheses.add(1, ordering: .acquiringAndReleasing)
            try await self.busy { try await Task.sleep(for: self.delay) }
            return Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: wav)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/v1")
        }
    }

    private func busy(_ work: () async throws -> Void) async throws {
        let now = inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        defer { inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        _ = peak.max(now, ordering: .acquiringAndReleasing)
        try await work()
    }
}
