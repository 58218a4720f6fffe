// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// `/stop` on the web chat WebSocket while an answer streams: the answer ends with the "stopped"
/// error frame and no `done`, `/stop` itself is answered "Stopped.", the hub hangs up on the
/// upstream (its stream's next write fails), and nothing of the stopped turn is remembered.
@Suite(.timeLimit(.minutes(1)))
struct WebChatStopTests {
    @Test func stopEndsAStreamingAnswerAndCancelsTheUpstreamRequest() async throws {
        let upstream = FakeUpstream(streamPause: .milliseconds(150))
        try await upstream.run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: "web: {}")
            try await TestHub.run(configuration) { port, _ in
                let (client, task) = WebChatClient.connect(port: port, path: "/ws/chat/stopper")
                defer {
                    client.close()
                    task.cancel()
                }
                _ = try await client.history()
                // One whole exchange first, so the history has something to keep.
                client.message("m1", "remember me")
                try await client.frame("done", id: "m1")

                // Thirty words, 150 ms apart: about 4.5 s if nobody stops it.
                let long = (1...30).map { "word\($0)" }.joined(separator: " ") + " slowly"
                client.message("m2", long)
                try await client.frame("delta", id: "m2")
                client.message("s1", "/stop")
                let stopped = try await client.frame("error", id: "m2")
                #expect(stopped["message"] == "Stopped before the answer was finished.")
                try await client.frame("done", id: "s1")
                #expect(client.deltas("s1").joined() == "Stopped.")
                #expect(!client.frames.contains { $0["type"] == "done" && $0["id"] == "m2" })
                // Far from the whole answer came through.
                #expect(client.deltas("m2").count < 30)
                // The hub dropped the upstream request: the stream's next write failed.
                try await eventually("the upstream to see its stream dropped") { upstream.abandonedStreams == 1 }
                #expect(upstream.requests.count == 2)
                client.close()
                _ = await task.result

                // A new connection's history holds the first exchange and nothing of the stopped one.
                let (reloaded, reloadTask) = WebChatClient.connect(port: port, path: "/ws/chat/stopper")
                defer {
                    reloaded.close()
                    reloadTask.cancel()
                }
                let messages = try await reloaded.history()["messages"]?.arrayValue ?? []
                #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant"])
                #expect(messages.map { $0["content"]?.stringValue } == ["remember me", "echo: remember me"])
                reloaded.close()
                _ = await reloadTask.result
            }
        }
    }
}
