// SPDX-License-Identifier: Apache-2.0
import Engine
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// An OpenAI-compatible upstream on loopback that streams a fixed answer of several sentences, one
/// piece every `pause`, records the messages of every request, and counts the streams the hub
/// dropped before the end (the request was cancelled).
final class SentenceUpstream: Sendable {
    let pieces: [String]
    let pause: Duration
    private let recorded = Mutex([[(role: String, content: String)]]())
    private let abandoned = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    init(pieces: [String] = ["It is noon. ", "The sun is up. ", "Have a nice day."], pause: Duration = .milliseconds(30)) {
        self.pieces = pieces
        self.pause = pause
    }

    var answer: String { pieces.joined() }
    var requests: [[(role: String, content: String)]] { recorded.withLock { $0 } }
    /// Streams that ended early because the hub went away.
    var abandonedStreams: Int { abandoned.load(ordering: .acquiring) }
    /// Streams written to the end.
    var finishedStreams: Int { finished.load(ordering: .acquiring) }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let json = try JSONValue(parsing: try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let messages = (json["messages"]?.arrayValue ?? []).map { (role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "") }
            self.recorded.withLock { $0.append(messages) }
            let pieces = self.pieces
            let pause = self.pause
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    do {
                        for piece in pieces {
                            let chunk: JSONValue = ["choices": [["index": 0, "delta": ["content": .string(piece)], "finish_reason": .null]]]
                            try await writer.write(ByteBuffer(string: "data: \(chunk.compactJSON)\n\n"))
                            try await Task.sleep(for: pause)
                        }
                        let finish: JSONValue = ["choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]]
                        try await writer.write(ByteBuffer(string: "data: \(finish.compactJSON)\n\ndata: [DONE]\n\n"))
                        try await writer.finish(nil)
                        self.finished.add(1, ordering: .acquiringAndReleasing)
                    } catch {
                        self.abandoned.add(1, ordering: .acquiringAndReleasing)
                        throw error
                    }
                })
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/v1")
        }
    }
}
