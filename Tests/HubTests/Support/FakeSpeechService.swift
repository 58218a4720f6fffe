// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// An OpenAI-compatible speech service on loopback that always misbehaves the same way
/// (`POST /v1/audio/speech` and `/v1/audio/transcriptions`), counting the requests it got.
final class FakeSpeechService: Sendable {
    enum Failure: String, Sendable, CaseIterable {
        /// 500 with an OpenAI error body.
        case serverError
        /// 429 with `Retry-After: 1`.
        case rateLimited
        /// Answers nothing until ``release()`` (at most its `stallLimit`, 10 s unless told): past
        /// any small timeout.
        case stall
        /// 200 with bytes that are neither audio nor JSON (labelled `audio/wav` / `application/json`).
        case garbage
    }

    let failure: Failure
    /// Longest a stall lasts.
    let stallLimit: Duration
    private let count = Atomic<Int>(0)
    private let released = Atomic<Bool>(false)

    init(_ failure: Failure, stallLimit: Duration = .seconds(10)) {
        self.failure = failure
        self.stallLimit = stallLimit
    }

    /// Requests received so far.
    var requests: Int { count.load(ordering: .acquiring) }

    /// Ends every stall (waiting or to come).
    func release() { released.store(true, ordering: .releasing) }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        for (path, garbageType) in [("/v1/audio/speech", "audio/wav"), ("/v1/audio/transcriptions", "application/json")] {
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                _ = try await request.body.collect(upTo: 64 << 20)
                self.count.add(1, ordering: .acquiringAndReleasing)
                switch self.failure {
                case .serverError:
                    return Response.json(.internalServerError, ["error": ["message": "speech exploded", "type": "server_error"]])
                case .rateLimited:
                    var response = Response.json(.tooManyRequests, ["error": ["message": "slow down", "type": "rate_limit_error"]])
                    response.headers[.retryAfter] = "1"
                    return response
                case .stall:
                    let deadline = ContinuousClock.now + self.stallLimit
                    while !self.released.load(ordering: .acquiring), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return Response.json(.internalServerError, ["error": ["message": "too late", "type": "server_error"]])
                case .garbage:
                    return Response(
                        status: .ok, headers: [.contentType: garbageType],
                        body: .init(byteBuffer: ByteBuffer(bytes: SpeechHTTP.noise(count: 3000, seed: 7))))
                }
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            defer { self.release() }
            return try await body("http://127.0.0.1:\(client.port!)/v1")
        }
    }
}
