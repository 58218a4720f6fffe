// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import GRDB
import Testing

/// Image jobs survive a crash: the hub as a child process with one job running and four waiting
/// (three from the API, one from a `/draw` in QQ), `kill -9`, and a restart on the same database:
/// every job ends `succeeded` exactly once, the interrupted one is drawn a second time and no other
/// is, each picture is served, and the drawing reaches the bot after it reconnects.
@Suite(.timeLimit(.minutes(3)))
struct ImageJobRestartTests {
    static let selfID: Int64 = 3_847_291_056
    static let user: Int64 = 1_077_000_001

    @Test func jobsInterruptedByAKill9FinishExactlyOnceAfterTheRestart() async throws {
        // Each picture takes 1.5 s; while held, the first hub's running job stays in flight until it dies.
        let service = FakeImageService(delay: .milliseconds(1500))
        try await service.run { base in
            let folder = ImageHub.folder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let configPath = folder.appendingPathComponent("hub.yaml").path
            try ImageHub.yaml(
                folder: folder, service: base, providers: [("slow", "slow")], image: ["job_attempts: 2"], batch: "{ max_concurrent: 1, queue: 16 }",
                port: nil
            ).write(toFile: configPath, atomically: true, encoding: .utf8)
            let databasePath = folder.appendingPathComponent("hub.sqlite").path
            let logPath = folder.appendingPathComponent("hub.log").path
            let port = try HubProcess.freePort()

            service.hold()
            let first = try await HubProcess(configPath: configPath, port: port, logPath: logPath)
            defer { first.kill() }
            let bot = FakeOneBot(selfID: Self.selfID)
            let connection = Task { try await bot.connect(port: port) }
            defer { connection.cancel() }
            try await bot.waitUntilConnected()

            let prompts = ["kite 1", "kite 2", "kite 3", "kite 4"]
            var ids = [String]()
            for prompt in prompts { ids.append(try await ImageHub.submit(port, prompt: prompt)) }
            try await service.waitForRequest("kite 1")
            let drawing = "a frog after the crash"
            bot.send(OneBotFrames.privateMessage(selfID: Self.selfID, user: Self.user, messageID: 77, text: "/draw \(drawing)"))
            let ack = try await bot.action(0)
            #expect(ack.messageText.contains("number 4 in the queue"), "\(ack.messageText)")

            // The /draw is recorded answered (so the kill falls outside its reply's duplicate
            // window); one job runs and four wait.
            let database = try DatabaseQueue(path: databasePath, configuration: CrashReplayTests.readOnly)
            try await eventually("the /draw recorded answered", timeout: .seconds(10)) {
                (try? database.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE state IN ('received', 'answering', 'replying')")
                }) == 0
            }
            #expect(try Self.states(database) == ["running": 1, "queued": 4])
            #expect(try await ImageHub.status(port, id: ids[0])["status"] == "running")
            #expect(try await ImageHub.status(port, id: ids[3])["position"] == 3)

            first.kill()
            connection.cancel()
            #expect(service.requests.map(\.prompt) == ["kite 1"])
            #expect(try Self.states(database) == ["running": 1, "queued": 4], "the kill left the rows as they were")

            // From now on every picture takes 1.5 s (the dead hub's request ends too, unheard).
            service.release()
            let second = try await HubProcess(configPath: configPath, port: port, logPath: logPath)
            defer { second.kill() }
            let returning = FakeOneBot(selfID: Self.selfID)
            let reconnection = Task { try await returning.connect(port: port) }
            defer { reconnection.cancel() }
            try await returning.waitUntilConnected()

            for (prompt, id) in zip(prompts, ids) {
                let finished = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed", "cancelled"], timeout: .seconds(30))
                #expect(finished["status"] == "succeeded", "\(prompt): \(finished.compactJSON)")
                #expect(finished["attempts"] == (prompt == "kite 1" ? 2 : 1), "\(prompt): \(finished.compactJSON)")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue, "\(prompt)")
                let picture = try await ImageHub.get(url)
                #expect(picture.status == 200 && picture.body == FakeImageService.png(for: prompt), "\(prompt): \(url)")
            }
            try await eventually("the drawing delivered to the returning bot", timeout: .seconds(20)) {
                returning.actions.contains { $0.messageTypes == ["image"] }
            }
            try await eventually("the drawing recorded delivered", timeout: .seconds(10)) {
                (try? database.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE origin IS NOT NULL AND delivered_at IS NOT NULL")
                }) == 1
            }
            // Stopped: nothing more can arrive, so the counts below are final.
            #expect(await second.interrupt(), "the hub stopped by itself on SIGINT")

            let pictures = returning.actions.filter { $0.messageTypes == ["image"] }
            #expect(pictures.count == 1, "the drawing delivered exactly once")
            #expect(pictures.first.flatMap(OneBotDrawTests.pictureBytes) == FakeImageService.png(for: drawing))
            #expect(pictures.first?["params"]?["user_id"] == .int(Self.user))
            #expect(returning.actions.map(\.messageText).filter { $0.contains("Here is “\(drawing)”") }.count == 1)
            #expect(bot.actions.count == 1, "the first hub sent only the acknowledgement")

            #expect(service.count("kite 1") == 2, "interrupted once, finished once")
            for prompt in prompts.dropFirst() + [drawing] {
                #expect(service.count(prompt) == 1, "\(prompt) drawn once")
            }
            #expect(try Self.states(database) == ["succeeded": 5])
            let drawingAttempts = try await database.read { db in try Int.fetchOne(db, sql: "SELECT attempts FROM jobs WHERE origin IS NOT NULL") }
            #expect(drawingAttempts == 1)
            #expect(second.output.contains("jobs interrupted by the last stop queued again"))
            let integrity = try await database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            #expect(integrity == ["ok"])
        }
    }

    /// Jobs by state.
    static func states(_ database: DatabaseQueue) throws -> [String: Int] {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS count FROM jobs GROUP BY state")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["state"] as String, $0["count"] as Int) })
        }
    }
}
