// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Hummingbird
import NIOCore

extension StreamingASRDoor {
    /// `GET /api/v1/streaming-health` (503 when streams cannot work) and `GET /api/v1/streaming-stats`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/api/v1/streaming-health") { _, _ in
            let health = self.health
            return Self.json(health.status == "ok" ? .ok : .serviceUnavailable, health)
        }
        router.get("/api/v1/streaming-stats") { _, _ in
            Self.json(.ok, self.stats)
        }
    }

    /// The detector (made and dropped to see that it can be) and the recognizers.
    public var health: StreamingASRHealth {
        let vad = (try? VoiceActivityDetector()) != nil
        let live = speech.recognition.liveProviders
        let recognizers = speech.recognition.health.map { route in
            StreamingASRHealth.Recognizer(name: route.provider, live: live.contains(route.provider), breaker: route.breaker)
        }
        return StreamingASRHealth(status: vad && !recognizers.isEmpty ? "ok" : "unavailable", vad: "webrtc", recognizers: recognizers)
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        // Strings, numbers and booleans only: encoding cannot fail.
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
