// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// An OpenAI-compatible upstream on loopback that the tests control: it answers
/// `echo: <last user message>`, records every request, and misbehaves when the message asks it to
/// ("slow" waits, "fail" answers 500, "complain" 502 with the message in its error; streamed,
/// "slowly" sends word by word and "break" drops the connection halfway through; "held" waits
/// until ``release()``, at most `holdLimit`, 10 s unless told). Every answer first
/// waits `answerDelay`; the upstream records its peak number of requests in flight and how many
/// word-by-word streams ended early because the hub went away.
final class FakeUpstream: Sendable {
    struct Recorded: Sendable {
        let model: String
        let messages: [(role: String, content: String)]
        let authorization: String?
    }

    private let recorded = Mutex([Recorded]())
    let slowDelay: Duration
    let streamPause: Duration
    let answerDelay: Duration
    /// Longest a "held" request waits.
    let holdLimit: Duration
    private let released = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)
    private let peakInFlight = Atomic<Int>(0)
    private let abandoned = Atomic<Int>(0)

    init(
        slowDelay: Duration = .milliseconds(1500), streamPause: Duration = .milliseconds(120), answerDelay: Duration = .zero,
        holdLimit: Duration = .seconds(10)
    ) {
        self.holdLimit = holdLimit
        self.slowDelay = slowDelay
        self.streamPause = streamPause
        self.answerDelay = answerDelay
    }

    /// Lets every "held" request (waiting or still to come) answer.
    func release() { released.store(true, ordering: .releasing) }

    /// The most requests the upstream was answering at once (until each handler returned; for a
    /// streamed answer, until its first byte).
    var peakConcurrency: Int { peakInFlight.load(ordering: .acquiring) }

    /// Word-by-word streams ("slowly") whose writing failed before the end: the hub dropped them.
    var abandonedStreams: Int { abandoned.load(ordering: .acquiring) }

    private struct StreamBroken: Error {}

    var requests: [Recorded] { recorded.withLock { $0 } }

    /// Runs the upstream for the duration of `body`, passing its base URL (`http://127.0.0.1:<port>/v1`).
    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let json = try JSONValue(parsing: bytes.readableBytesView)
            let messages = (json["messages"]?.arrayValue ?? []).map {
                (role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "")
            }
            let model = json["model"]?.stringValue ?? ""
            self.recorded.withLock {
                $0.append(Recorded(model: model, messages: messages, authorization: request.headers[.authorization]))
            }
            let last = messages.last(where: { $0.role == "user" })?.content ?? ""
            let now = self.inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
            defer { self.inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
            _ = self.peakInFlight.max(now, ordering: .acquiringAndReleasing)
            if self.answerDelay > .zero { try await Task.sleep(for: self.answerDelay) }
            if last.contains("held") {
                let deadline = ContinuousClock.now + self.holdLimit
                while !self.released.load(ordering: .acquiring), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            }
            if last.contains("slow") { try await Task.sleep(for: self.slowDelay) }
            if last.contains("fail") {
                return Response.json(.internalServerError, ["error": ["message": "upstream exploded", "type": "server_error"]])
            }
            if last.contains("complain") {
                // Some providers repeat the request in their error: the hub logs it as it comes.
                return Response.json(.badGateway, ["error": ["message": .string("upstream refused: \(last)"), "type": "server_error"]])
            }
            if json["stream"]?.boolValue == true, last.contains("slowly") || last.contains("break") {
                // The answer word by word, `streamPause` apart; "break" drops the connection halfway.
                let words = "echo: \(last)".split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                let breaks = last.contains("break")
                let pause = self.streamPause
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        for (index, word) in words.enumerated() {
                            if breaks, index == words.count / 2 { throw StreamBroken() }
                            let piece: JSONValue = [
                                "choices": [["index": 0, "delta": ["content": .string(index == 0 ? word : " " + word)], "finish_reason": .null]]
                            ]
                            do {
                                try await writer.write(ByteBuffer(string: "data: \(piece.compactJSON)\n\n"))
                                try await Task.sleep(for: pause)
                            } catch {
                                self.abandoned.add(1, ordering: .acquiringAndReleasing)
                                throw error
                            }
                        }
                        let finish: JSONValue = ["choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]]
                        try await writer.write(ByteBuffer(string: "data: \(finish.compactJSON)\n\ndata: [DONE]\n\n"))
                        try await writer.finish(nil)
                    })
            }
            if json["stream"]?.boolValue == true {
                // Streamed as OpenAI does: role, the answer in two pieces, finish, usage, [DONE].
                let text = "echo: \(last)"
                let half = text.index(text.startIndex, offsetBy: text.count / 2)
                let pieces: [JSONValue] = [
                    ["choices": [["index": 0, "delta": ["role": "assistant"], "finish_reason": .null]]],
                    ["choices": [["index": 0, "delta": ["content": .string(String(text[..<half]))], "finish_reason": .null]]],
                    ["choices": [["index": 0, "delta": ["content": .string(String(text[half...]))], "finish_reason": .null]]],
                    ["choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]],
                    ["choices": [], "usage": ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5]],
                ]
                var body = ""
                for piece in pieces { body += "data: \(piece.compactJSON)\n\n" }
                body += "data: [DONE]\n\n"
                return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            let answer: JSONValue = [
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1_717_000_000, "model": .string(model),
                "choices": [["index": 0, "message": ["role": "assistant", "content": .string("echo: \(last)")], "finish_reason": "stop"]],
                "usage": ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5],
            ]
            return Response.json(.ok, answer)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/v1")
        }
    }
}
