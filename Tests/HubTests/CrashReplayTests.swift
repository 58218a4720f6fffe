// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The durable inbox proven the hard way: the hub as a child process, 400 events accepted over the
/// reverse WebSocket and signed HTTP POST, `kill -9` while half of them wait for the model, a
/// restart on the same database: every accepted event is answered exactly once, each session in
/// order, and SQLite's integrity check passes.
@Suite(.timeLimit(.minutes(3)))
struct CrashReplayTests {
    static let selfID: Int64 = 3_847_291_056

    @Test func everyAcceptedEventIsAnsweredExactlyOnceAcrossAKill9() async throws {
        // Every answer takes 300 ms; messages with "held" wait for the release (at most 10 s).
        let upstream = FakeUpstream(answerDelay: .milliseconds(300))
        try await upstream.run { base in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-crash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let databasePath = folder.appendingPathComponent("hub.sqlite").path
            let configPath = folder.appendingPathComponent("hub.yaml").path
            try """
            server: { host: 127.0.0.1 }
            storage: { sqlite_path: "\(databasePath)" }
            onebot: { access_token: \(TestHub.token), secret: \(TestHub.secret), action_timeout: 5 }
            chat: { rate_limit: { per_user: "off", per_group: "off" } }
            llm:
              providers:
                - { name: fake, base_url: "\(base)", api_key: k, models: [ { name: m } ], timeout: 20, retry_attempts: 0 }
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
            let port = try HubProcess.freePort()
            let logPath = folder.appendingPathComponent("hub.log").path

            // Users 1…200 send two messages each: 1…150 over the WebSocket (300 events), 151…200 over
            // HTTP POST (100 events). An odd user's first message is held by the model, so both of its
            // messages are still open when the hub dies; an even user's are answered before.
            func text(user: Int, second: Bool) -> String { second ? "u\(user) second" : (user % 2 == 1 ? "held u\(user) first" : "u\(user) first") }
            func event(user: Int, second: Bool) -> JSONValue {
                OneBotFrames.privateMessage(
                    selfID: Self.selfID, user: Int64(1_000_000 + user), messageID: Int64(user * 10 + (second ? 2 : 1)),
                    text: text(user: user, second: second))
            }
            let expected = (1...200).flatMap { user in [text(user: user, second: false), text(user: user, second: true)] }

            let first = try await HubProcess(configPath: configPath, port: port, logPath: logPath)
            defer { first.kill() }
            let bot = FakeOneBot(selfID: Self.selfID)
            let connection = Task { try await bot.connect(port: port) }
            try await bot.waitUntilConnected()
            for user in 1...150 {
                bot.send(event(user: user, second: false))
                bot.send(event(user: user, second: true))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in 151...200 {
                    group.addTask {
                        for second in [false, true] {
                            let status = try await Self.post(event(user: user, second: second), port: port)
                            #expect(status == 204, "user \(user)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Accepted: all 400 are in the inbox. Then every even user's answers arrive and are
            // recorded as answered, so the kill below falls outside any reply's duplicate window.
            let database = try DatabaseQueue(path: databasePath, configuration: Self.readOnly)
            try await eventually("400 events in the inbox", timeout: .seconds(30)) { ((try? Self.count(in: database)) ?? 0) == 400 }
            try await eventually("the 200 answers not held", timeout: .seconds(30)) { bot.actions.count == 200 }
            try await eventually("the 200 answers recorded", timeout: .seconds(10)) {
                ((try? Self.count(in: database, state: "answered")) ?? 0) == 200
            }
            let answeredFirst: Set<String> = Set(
                (1...200).filter { $0 % 2 == 0 }.flatMap { (user: Int) -> [String] in
                    ["echo: " + text(user: user, second: false), "echo: " + text(user: user, second: true)]
                })
            #expect(Set(bot.actions.map(\.messageText)) == answeredFirst)
            first.kill()
            connection.cancel()
            let openAtKill = try Self.count(in: database) - Self.count(in: database, state: "answered")
            #expect(openAtKill == 200)

            // The model answers everything now; the hub comes back on the same file and the bot reconnects.
            upstream.release()
            let second = try await HubProcess(configPath: configPath, port: port, logPath: logPath)
            defer { second.kill() }
            let returning = FakeOneBot(selfID: Self.selfID)
            let reconnection = Task { try await returning.connect(port: port) }
            defer { reconnection.cancel() }
            try await returning.waitUntilConnected()
            try await eventually("the 200 open events answered after the restart", timeout: .seconds(60)) {
                returning.actions.count >= 200
            }
            // Stopped at once, gracefully: the records of the last answers (held back a moment to
            // share a transaction) are written before it ends, so nothing is left to answer again.
            #expect(await second.interrupt(), "the hub stopped by itself on SIGINT")
            #expect(try Self.count(in: database, state: "answered") == 400)
            #expect(try Self.count(in: database) == 400)
            let answers = (bot.actions + returning.actions).map(\.messageText)
            #expect(answers.count == 400)
            #expect(answers.sorted() == expected.map { "echo: \($0)" }.sorted(), "every accepted event answered exactly once")
            // Each session in order: a held first message is answered before the second.
            let replayed = returning.actions.map(\.messageText)
            for user in stride(from: 1, through: 199, by: 2) {
                let firstIndex = replayed.firstIndex(of: "echo: \(text(user: user, second: false))")
                let secondIndex = replayed.firstIndex(of: "echo: \(text(user: user, second: true))")
                #expect(firstIndex != nil && secondIndex != nil && firstIndex! < secondIndex!, "user \(user)")
            }
            #expect(second.output.contains("inbox replayed"))
            let integrity = try await database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            #expect(integrity == ["ok"])
        }
    }

    static var readOnly: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return configuration
    }

    static func count(in database: DatabaseQueue, state: String? = nil) throws -> Int {
        try database.read { db in
            if let state { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE state = ?", arguments: [state]) ?? 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
        }
    }

    /// POSTs an event to the callback, signed, as go-cqhttp does; returns the status.
    static func post(_ event: JSONValue, port: Int) async throws -> UInt {
        try await SignedCallback.post(port: port, selfID: String(selfID), body: event.compactJSON, timeout: .seconds(10))
    }
}
