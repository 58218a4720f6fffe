// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing

@testable import Engine

/// An engine with `/draw` and no door: a SQLite file, the `realtime` lane and the `batch` job
/// queue running, a scripted image runner that saves the stub's picture in a media store, and the
/// queue's deliveries going through ``ConversationEngine/deliver(_:through:)`` to a recording sink.
struct DrawHub: Sendable {
    let engine: ConversationEngine
    let store: SQLiteConversationStore
    let database: HubDatabase
    let queue: JobQueue
    let media: MediaStore
    let sink: RecordingSink
    let runner: ScriptedRunner

    static let logger = JobTesting.logger

    /// A runner that waits for `gate` (when given), then draws the stub's PNG; a prompt starting
    /// with "fail" fails for good.
    static func drawing(_ media: @escaping @Sendable () -> MediaStore, gate: CancellableGate? = nil) -> ScriptedRunner {
        ScriptedRunner { job, _ in
            try await gate?.wait()
            let request = try JSONDecoder().decode(ImageRequest.self, from: Data(job.payload.utf8))
            if request.prompt.hasPrefix("fail") { throw JobFailure("the GPU is on fire", retryable: false) }
            return [try media().save(GeneratedImage(bytes: StubImageService.png)!)]
        }
    }

    static func run(
        configured: Bool = true, queueLimit: Int = 16, gate: CancellableGate? = nil, _ body: @escaping @Sendable (DrawHub) async throws -> Void
    ) async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-draw-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let media = MediaStore(directory: folder.path, ttl: .seconds(3600), logger: logger)
        let runner = drawing({ media }, gate: gate)
        let queue = JobQueue(
            store: JobStore(database: database), settings: .init(maxConcurrent: 1, queueLimit: queueLimit, maxAttempts: 1),
            runners: [ImageJobRunner.kind: runner], logger: logger)
        let store = SQLiteConversationStore(database: database)
        let lane = Lane(name: "realtime", maxConcurrent: 4, queueLimit: 64)
        let engine = ConversationEngine(
            settings: EngineSettings(), store: store, inbox: store.inbox, models: ChatModels(providers: []),
            router: ChatRouter(routes: [], logger: logger), lane: lane,
            images: ImageJobs(queue: queue, media: media, width: 512, height: 512, isConfigured: configured), logger: logger)
        let sink = RecordingSink()
        queue.deliver { job in await engine.deliver(job, through: { _ in sink }) }
        let group = ServiceGroup(configuration: .init(services: [lane, queue], gracefulShutdownSignals: [], logger: logger))
        let hub = DrawHub(engine: engine, store: store, database: database, queue: queue, media: media, sink: sink, runner: runner)
        try await withTimeLimit(.seconds(20)) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let ran: Result<Void, any Error>
                do {
                    try await body(hub)
                    ran = .success(())
                } catch {
                    ran = .failure(error)
                }
                gate?.open()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                // The turns are over: their inbox records go in before the file is removed.
                await store.inbox.flush()
                try ran.get()
            }
        }
    }

    /// The stored history of `user`'s private session.
    func history(of user: String = "1001") async throws -> [StoredMessage] {
        try await store.snapshot(SessionKey(platform: .qq, botID: "bot", group: nil, user: user), limit: 100).history
    }

    /// Every job in the table, oldest first.
    func jobs() async throws -> [JobRecord] {
        try await database.pool.read { db in try JobRecord.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY created_at, rowid") }
    }

    /// The terminal parts answering message `id`, once there are `count` of them.
    func endings(of id: String, count: Int) async throws -> [AnswerPart] {
        try await sink.waitUntil { $0.filter { $0.eventID == id && $0.part.isTerminal }.count >= count }
        return sink.endings.filter { $0.eventID == id }.map(\.part)
    }
}

/// A door that is down: every part it is given fails.
private struct FailingSink: AnswerSink {
    struct Down: Error {}
    var showsProgress: Bool { false }
    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] { throw Down() }
}

/// `/draw` in the engine: the acknowledgement with the queue position, the picture delivered
/// later as its own reply and kept in the history, failures, and the refusals before any job.
@Suite(.timeLimit(.minutes(1)))
struct DrawCommandTests {
    static let ack = "Drawing “a cat”. It's next in line; the picture comes here when it's ready."

    @Test func drawQueuesAJobAndDeliversThePictureWhenItIsReady() async throws {
        let gate = CancellableGate()
        try await DrawHub.run(gate: gate) { (hub: DrawHub) async throws in
            #expect(hub.engine.submit(EngineHarness.message("/draw a cat", id: "d1"), to: hub.sink) == .accepted)
            // The acknowledgement comes at once, while the picture is still being drawn.
            let first = try await hub.endings(of: "d1", count: 1)
            guard case .final(let ack) = first.first else {
                Issue.record("no acknowledgement: \(first)")
                return
            }
            #expect(ack.text == Self.ack)
            let queued = try #require(try await hub.jobs().first)
            #expect(queued.kind == ImageJobRunner.kind && queued.priority == .normal && !queued.state.isFinished)
            let request = try JSONDecoder().decode(ImageRequest.self, from: Data(queued.payload.utf8))
            #expect(request == ImageRequest(prompt: "a cat", width: 512, height: 512))
            let origin = try #require(queued.origin)
            #expect(ConversationEvent(journal: try JSONValue(parsing: origin))?.platformMessageID == "d1")

            gate.open()
            let endings = try await hub.endings(of: "d1", count: 2)
            guard endings.count == 2, case .final(let picture) = endings[1] else {
                Issue.record("no picture: \(endings)")
                return
            }
            let job = try #require(try await hub.jobs().first)
            #expect(job.state == .succeeded)
            let file = try #require(job.result.first)
            #expect(picture.kind == .answer)
            let hosted = MediaReference.hosted(path: "/media/\(file.id).png", bytes: StubImageService.png, format: "png")
            #expect(picture.parts == [.text("Here is “a cat”:"), .image(hosted)])
            // Once delivered, the exchange is in the history as if the picture had answered the command.
            try await eventually { try await hub.queue.store.job(job.id)?.deliveredAt != nil }
            let history = try await hub.history()
            #expect(history.map(\.role) == [.user, .assistant])
            #expect(history.map(\.content) == ["/draw a cat", "Here is “a cat”:\n\n![a cat](/media/\(file.id).png)"])
            #expect(hub.sink.endings.count == 2)
        }
    }

    @Test func theAcknowledgementSaysWhereTheJobIsInTheQueue() async throws {
        let gate = CancellableGate()
        try await DrawHub.run(gate: gate) { (hub: DrawHub) async throws in
            hub.engine.submit(EngineHarness.message("/draw a cat", id: "d1"), to: hub.sink)
            #expect(try await hub.endings(of: "d1", count: 1).first?.text == Self.ack)
            #expect(await hub.runner.starts.next(1).count == 1)  // the first one is being drawn
            hub.engine.submit(EngineHarness.message("/draw a dog", id: "d2"), to: hub.sink)
            #expect(try await hub.endings(of: "d2", count: 1).first?.text?.contains("It's next in line") == true)
            hub.engine.submit(EngineHarness.message("/画 a cow", id: "d3"), to: hub.sink)
            #expect(
                try await hub.endings(of: "d3", count: 1).first?.text
                    == "Drawing “a cow”. It's number 2 in the queue; the picture comes here when it's ready.")
            gate.open()
            for id in ["d1", "d2", "d3"] {
                let endings = try await hub.endings(of: id, count: 2)
                guard case .final(let reply) = endings.last else {
                    Issue.record("no picture for \(id): \(endings)")
                    continue
                }
                #expect(reply.parts.contains { if case .image(.hosted) = $0 { true } else { false } })
            }
            #expect(hub.runner.order.count == 3)
            try await eventually { try await hub.jobs().allSatisfy { $0.deliveredAt != nil } }
            let history = try await hub.history()
            #expect(history.filter { $0.role == .user }.map(\.content) == ["/draw a cat", "/draw a dog", "/draw a cow"])
        }
    }

    @Test func aFailedJobIsToldAndLeavesNoHistory() async throws {
        try await DrawHub.run { (hub: DrawHub) async throws in
            hub.engine.submit(EngineHarness.message("/draw fail: a cat", id: "d1"), to: hub.sink)
            let endings = try await hub.endings(of: "d1", count: 2)
            #expect(endings.first?.text?.hasPrefix("Drawing “fail: a cat”.") == true)
            guard case .failure(let reply, _) = endings.last else {
                Issue.record("no failure: \(endings)")
                return
            }
            #expect(reply.kind == .failure)
            #expect(reply.text == "Sorry, I couldn't draw “fail: a cat”: the GPU is on fire")
            #expect(try await hub.history().isEmpty)
            #expect(try await hub.jobs().map(\.state) == [.failed])
        }
    }

    @Test func withoutAnImageGeneratorDrawIsNotAvailable() async throws {
        try await DrawHub.run(configured: false) { (hub: DrawHub) async throws in
            hub.engine.submit(EngineHarness.message("/draw a cat", id: "d1"), to: hub.sink)
            let reply = try await hub.sink.ending(of: "d1")
            #expect(reply.text == "Drawing is not available on this hub: no image generator is configured.")
            #expect(try await hub.jobs().isEmpty)
        }
    }

    @Test func aDrawWithoutAPromptGetsAHint() async throws {
        try await DrawHub.run { (hub: DrawHub) async throws in
            hub.engine.submit(EngineHarness.message("/draw", id: "d1"), to: hub.sink)
            hub.engine.submit(EngineHarness.message("/draw    ", id: "d2"), to: hub.sink)
            for id in ["d1", "d2"] {
                #expect(try await hub.sink.ending(of: id).text == "Tell me what to draw, e.g. /draw a red kite over the sea")
            }
            #expect(try await hub.jobs().isEmpty)
        }
    }

    @Test func anOverLongPromptIsRefusedBeforeAnyJob() async throws {
        try await DrawHub.run { (hub: DrawHub) async throws in
            let prompt = String(repeating: "cat ", count: 1001)
            hub.engine.submit(EngineHarness.message("/draw \(prompt)", id: "d1"), to: hub.sink)
            let text = try await hub.sink.ending(of: "d1").text
            #expect(text?.hasPrefix("I can't draw that:") == true)
            #expect(text?.contains("4000 characters") == true)
            #expect(try await hub.jobs().isEmpty)
        }
    }

    @Test func aFullQueueAsksToTryAgainLater() async throws {
        try await DrawHub.run(queueLimit: 0) { (hub: DrawHub) async throws in
            hub.engine.submit(EngineHarness.message("/draw a cat", id: "d1"), to: hub.sink)
            guard case .final(let reply) = try await hub.sink.ending(of: "d1") else {
                Issue.record("no reply")
                return
            }
            #expect(reply.kind == .notice)
            #expect(reply.text.hasPrefix("Too many pictures are waiting to be drawn. Please try again in "))
            #expect(try await hub.jobs().isEmpty)
            #expect(hub.queue.snapshot.refused == 1)
        }
    }

    @Test func deliveringAJobTheChatCannotGetAnyMore() async throws {
        try await DrawHub.run { (hub: DrawHub) async throws in
            let event = EngineHarness.message("/draw a dog", id: "d9")
            let payload = String(decoding: try JSONEncoder().encode(ImageRequest(prompt: "a dog")), as: UTF8.self)
            let now = Date()
            var job = JobRecord(
                id: JobRecord.makeID(), kind: ImageJobRunner.kind, priority: .normal, state: .succeeded, payload: payload,
                origin: event.journal.compactJSON, attempts: 1, maxAttempts: 1, createdAt: now, finishedAt: now,
                result: [MediaFile(id: JobRecord.makeID(), format: .png)])
            // The picture was swept before it could be delivered.
            #expect(await hub.engine.deliver(job, through: { _ in hub.sink }))
            let endings = try await hub.endings(of: "d9", count: 1)
            guard case .failure(let reply, _) = endings.first else {
                Issue.record("no failure: \(endings)")
                return
            }
            #expect(reply.text == "The picture of “a dog” was made but is no longer kept.")
            #expect(try await hub.history().isEmpty)
            // A door that is down: not delivered, so the next start tries again; the history waits
            // for the delivery that arrives, or every retry would add the exchange once more.
            job.result = [try hub.media.save(GeneratedImage(bytes: StubImageService.png)!)]
            #expect(await hub.engine.deliver(job, through: { _ in FailingSink() }) == false)
            #expect(await hub.engine.deliver(job, through: { _ in FailingSink() }) == false)
            #expect(try await hub.history().isEmpty)
            #expect(await hub.engine.deliver(job, through: { _ in hub.sink }))
            #expect(try await hub.history().map(\.content) == ["/draw a dog", "Here is “a dog”:\n\n![a dog](\(job.result[0].urlPath))"])
            #expect(hub.sink.parts.count == 2)
            // A cancelled job, no chat at all, or a platform without a door: nothing to send, and
            // nothing to try again.
            var cancelled = job
            cancelled.state = .cancelled
            #expect(await hub.engine.deliver(cancelled, through: { _ in hub.sink }))
            var api = job
            api.origin = nil
            #expect(await hub.engine.deliver(api, through: { _ in hub.sink }))
            #expect(await hub.engine.deliver(job, through: { _ in nil }))
            #expect(hub.sink.parts.count == 2)
        }
    }
}
