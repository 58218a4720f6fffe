// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import NIOCore
import Synchronization

@testable import Engine

/// An OpenAI-compatible upstream on loopback for the engine's tests. It answers `echo: <last user
/// message>` after `delay`, streamed word by word `streamPause` apart when asked to stream; holds
/// every request whose message contains "held" until ``release()``; and records each request: its
/// message, the history it carried, and whether it finished or its client went away mid-answer.
final class EngineTestUpstream: Sendable {
    struct Call: Sendable {
        var message: String
        /// Messages of the request (system prompt and history included).
        var messageCount: Int
        var streamed: Bool
        var finished = false
        var cancelled = false
    }

    let delay: Duration
    let streamPause: Duration
    private let state = Mutex<(calls: [Call], inFlight: Int, peak: Int)>(([], 0, 0))
    private let held = Gate()

    init(delay: Duration = .zero, streamPause: Duration = .milliseconds(50)) {
        self.delay = delay
        self.streamPause = streamPause
    }

    var calls: [Call] { state.withLock { $0.calls } }
    /// Most requests answered at once.
    var peakConcurrency: Int { state.withLock { $0.peak } }

    /// Lets every held request go on.
    func release() { held.open() }

    /// Waits (bounded) until `condition` holds for the calls.
    func waitUntil(timeout: Duration = .seconds(10), _ condition: @Sendable ([Call]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(calls) {
            guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(limit: timeout) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = try JSONValue(parsing: body.readableBytesView)
            let messages = json["messages"]?.arrayValue ?? []
            let last = messages.last(where: { $0["role"]?.stringValue == "user" })?["content"]?.stringValue ?? ""
            let stream = json["stream"]?.boolValue ?? false
            let index = self.state.withLock { state -> Int in
                state.calls.append(Call(message: last, messageCount: messages.count, streamed: stream))
                state.inFlight += 1
                state.peak = max(state.peak, state.inFlight)
                return state.calls.count - 1
            }
            let done = { @Sendable (cancelled: Bool) in
                self.state.withLock { state in
                    state.inFlight -= 1
                    if cancelled { state.calls[index].cancelled = true } else { state.calls[index].finished = true }
                }
            }
            if last.contains("held") { await self.held.wait() }
            if self.delay > .zero { try await Task.sleep(for: self.delay) }
            let text = "echo: \(last)"
            guard stream else {
                done(false)
                let answer: JSONValue = [
                    "id": "x", "object": "chat.completion", "model": "m",
                    "choices": [["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop"]],
                    "usage": ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5],
                ]
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer.compactJSON)))
            }
            let words = text.split(separator: " ").map(String.init)
            let pause = self.streamPause
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    do {
                        for (position, word) in words.enumerated() {
                            let piece: JSONValue = [
                                "choices": [["index": 0, "delta": ["content": .string(position == 0 ? word : " " + word)], "finish_reason": .null]]
                            ]
                            try await writer.write(ByteBuffer(string: "data: \(piece.compactJSON)\n\n"))
                            try await Task.sleep(for: pause)
                        }
                        let finish: JSONValue = ["choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]]
                        try await writer.write(ByteBuffer(string: "data: \(finish.compactJSON)\n\ndata: [DONE]\n\n"))
                        try await writer.finish(nil)
                        done(false)
                    } catch {
                        done(true)
                        throw error
                    }
                })
        }
        return router
    }
}
