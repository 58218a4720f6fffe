// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HummingbirdTesting
import Synchronization
import Testing

@testable import Hub
import NIOCore
import HTTPTypes

/// A bot that stops reading its socket cannot keep its connection forever: once the hub's socket
/// buffers and the connection's send queue are full and the bot falls silent, the heartbeat
/// watchdog asks to close; the close handshake cannot go out through the full socket, so the hub
/// gives the connection up after the close timeout and closes its socket, and the bot, reading
/// again, reaches the end of the stream.
@Suite(.timeLimit(.minutes(3)))
struct OneBotStallTests {
    let selfID: Int64 = 3_847_291_056

    /// The hub's configuration: 60 s action timeout (so every failed reply in this test is one the
    /// full send queue refused), 100 ms heartbeat grace, room for 30 KB messages, a lane wide
    /// enough for thousands of turns waiting for their actions' responses.
    func configuration(upstream: String) throws -> HubConfiguration {
        try HubConfiguration.parse(
            yaml: """
                server: { host: 127.0.0.1, port: 0 }
                storage: { sqlite_path: "\(TestHub.databasePath())" }
                onebot: { access_token: \(TestHub.token), action_timeout: 60, heartbeat_grace: 0.1, max_message_length: 60000 }
                chat: { max_reply_length: 60000, rate_limit: { per_user: off } }
                lanes: { realtime: { max_concurrent: 20000, queue: 20000 } }
                llm:
                  providers:
                    - name: fake
                      base_url: \(upstream)
                      models: [ { name: model-a } ]
                      timeout: 30
                      retry_attempts: 1
                """, environment: [:])
    }

    /// Failed replies so far (`hub_replies_total{door="qq",outcome="failed"}`).
    func failedReplies(_ client: any TestClientProtocol) async throws -> Int {
        let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        return RedisIntegrationTests.value(of: #"hub_replies_total{door="qq",outcome="failed"}"#, in: text)
    }

    @Test func aBotThatStopsReadingIsDisconnected() async throws {
        let upstream = FakeUpstream()
        try await upstream.run { base in
            try await TestHub.run(try configuration(upstream: base)) { port, client in
                let peer = try await StalledOneBotPeer.connect(port: port, selfID: selfID)
                defer { Task { await peer.close() } }
                try await waitForMetrics(client, [#"hub_connected_bots{door="qq"} 1"#])
                func message(user: Int64, text: String) -> String {
                    OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: user, text: text).compactJSON
                }
                // Heartbeats every 100 ms until the send queue is full. They announce a 2 s interval
                // (6 s of silence tolerated) while the hub is busy with thousands of turns and may
                // read late; the last one announces 100 ms.
                let beating = Atomic<Bool>(true)
                let heartbeats = Task {
                    while beating.load(ordering: .acquiring) {
                        try await peer.send(OneBotFrames.heartbeat(selfID: selfID, intervalMS: 2000).compactJSON)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                defer { heartbeats.cancel() }
                // 200 echoes of 30 KB (6 MB): more than the socket buffers on both sides hold.
                let bulk = String(repeating: "z", count: 30_000)
                for index in 0..<200 { try await peer.send(message(user: 10_000 + Int64(index), text: "big \(index) \(bulk)")) }
                try await eventually("the big messages to reach the upstream", timeout: .seconds(30)) { upstream.requests.count >= 200 }
                // Then small ones from other users until a reply finds the send queue (4096 frames)
                // full: the hub refuses it at once, a failed reply (actions time out after 60 s).
                var sent = 0
                var batch = 4096
                while try await failedReplies(client) == 0 {
                    guard sent < 12_000 else { throw Unmet(what: "a full send queue after \(sent) small messages") }
                    for _ in 0..<batch {
                        try await peer.send(message(user: 100_000 + Int64(sent), text: "small \(sent)"))
                        sent += 1
                    }
                    batch = 250
                    let asked = 200 + sent
                    try await eventually("the small messages to reach the upstream", timeout: .seconds(60)) { upstream.requests.count >= asked }
                    let deadline = ContinuousClock.now + .seconds(2)
                    while try await failedReplies(client) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                }
                // The queue filled while the bot was still connected (so no reply failed for a lost
                // connection).
                let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(metrics.contains(#"hub_connected_bots{door="qq"} 1"#))
                // Silence after a last heartbeat of 100 ms: the watchdog asks to close 300 ms later;
                // the close frame cannot be written, so the hub gives the connection up 3 s after.
                beating.store(false, ordering: .releasing)
                _ = await heartbeats.result
                try await peer.send(OneBotFrames.heartbeat(selfID: selfID, intervalMS: 100).compactJSON)
                let silent = ContinuousClock.now
                try await waitForMetrics(client, [#"hub_connected_bots{door="qq"} 0"#], timeout: .seconds(20))
                #expect(ContinuousClock.now - silent >= .seconds(3))
                let peerPort = try #require(peer.channel.localAddress?.port)
                // The hub closes its socket too (no close handshake through a full socket): the
                // peer's stall holds no file descriptor, buffer or task of the hub.
                if LoopbackSockets.isHeld(localPort: port, remotePort: peerPort) != nil {
                    try await eventually("the hub to close its socket", timeout: .seconds(5)) {
                        LoopbackSockets.isHeld(localPort: port, remotePort: peerPort) == false
                    }
                }
                // Reading again, the bot gets what was in the buffers and then the end of the stream.
                try await peer.resumeReading()
                try await peer.waitUntilClosed(timeout: .seconds(20))
                #expect(peer.bytesRead > 1_000_000)
            }
        }
    }
}
