// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Hub

@Suite(.timeLimit(.minutes(1)))
struct OperationsTests {
    @Test func healthAndReadyWithoutAProvider() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let json = try JSONValue(parsing: response.body.readableBytesView)
                #expect(json["checks"]?["storage"] == "ok")
                #expect(json["checks"]?["llm"] == "no provider configured")
            }
        }
    }

    @Test func noProviderMeansAClearAnswerInChat() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, _ in
            let bot = FakeOneBot()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await bot.connect(port: port) }
                try await bot.waitUntilConnected()
                bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 5, messageID: 1, text: "hi"))
                #expect(try await bot.action(0).messageText.contains("No LLM provider is configured"))
                bot.disconnect()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func metricsCountEventsRepliesDuplicatesAndBots() async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                let bot = FakeOneBot()
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    try await bot.waitUntilConnected()
                    let event = OneBotFrames.privateMessage(selfID: bot.selfID, user: 5, messageID: 1, text: "hi")
                    bot.send(event)
                    bot.send(event)
                    _ = try await bot.action(0)
                    let text = try await waitForMetrics(
                        client,
                        [
                            #"hub_events_total{door="onebot",type="message"} 2"#, #"hub_duplicates_dropped_total{door="qq"} 1"#,
                            #"hub_replies_total{door="qq",outcome="sent"} 1"#, #"hub_connected_bots{door="qq"} 1"#,
                        ])
                    #expect(text.contains("hub_llm_request_duration_seconds_bucket"))
                    bot.disconnect()
                    try await tasks.waitForAll()
                }
            }
        }
    }
}
