// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// `/reset` over a real OneBot WebSocket while a turn runs (held at the upstream) and three more
/// wait behind it: the reset jumps the queue and is answered while the running turn is still held;
/// neither the running turn nor the waiting ones are ever answered or reach the upstream later,
/// and the conversation starts empty. "Nothing else was sent" is proved by markers: the next
/// action after each step answers the marker sent after it.
@Suite(.timeLimit(.minutes(1)))
struct OneBotResetTests {
    let selfID: Int64 = 3_847_291_056
    let user: Int64 = 1_049_382_716

    @Test func resetDropsTheQueuedTurnsAndCancelsTheRunningOne() async throws {
        let upstream = FakeUpstream()
        try await upstream.run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), chat: "  rate_limit: { per_user: off }")
            try await TestHub.run(configuration) { port, _ in
                let bot = FakeOneBot(selfID: selfID)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    defer { upstream.release() }
                    try await bot.waitUntilConnected()
                    var id: Int64 = 700
                    func say(_ text: String) {
                        id += 1
                        bot.send(OneBotFrames.privateMessage(selfID: selfID, user: user, messageID: id, text: text))
                    }
                    say("held at the upstream")
                    try await eventually("the held request reached the upstream") { upstream.requests.count == 1 }
                    // Three turns wait behind the held one; then the reset (one socket: in this order).
                    say("queued one")
                    say("queued two")
                    say("queued three")
                    say("/reset")
                    let reset = try await bot.action(0)
                    #expect(reset.messageText == "Conversation cleared. Let's start fresh.")
                    // The reset did not wait for the held request, and no queued turn started.
                    #expect(upstream.requests.count == 1)

                    say("marker one")
                    let first = try await bot.action(1)
                    #expect(first.messageText == "echo: marker one")
                    // The queued turns never reached the upstream; the held one left nothing behind.
                    #expect(upstream.requests.map { $0.messages.last?.content } == ["held at the upstream", "marker one"])
                    #expect(upstream.requests.last?.messages.map(\.role) == ["system", "user"])

                    // Let the held request answer now: the hub has dropped it, so no reply comes of it.
                    upstream.release()
                    say("marker two")
                    let second = try await bot.action(2)
                    #expect(second.messageText == "echo: marker two")
                    #expect(bot.actions.count == 3)
                    #expect(upstream.requests.count == 3)

                    bot.disconnect()
                    try await tasks.waitForAll()
                }
            }
        }
    }
}
