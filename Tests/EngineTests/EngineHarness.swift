// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

@testable import Engine

/// A ``ConversationEngine`` on real parts, without any door: a SQLite file, the `realtime` lane
/// running, and one OpenAI-compatible route to an ``EngineTestUpstream`` on loopback.
struct EngineHarness: Sendable {
    let engine: ConversationEngine
    let store: SQLiteConversationStore
    let router: ChatRouter
    let upstream: EngineTestUpstream
    /// Every attempt the router recorded (what the usage table gets).
    let usage: Locked<[UsageRecord]>

    static let logger = Logger(label: "engine-test")

    static func run(
        settings: EngineSettings = EngineSettings(), upstream: EngineTestUpstream = EngineTestUpstream(), laneConcurrency: Int = 16,
        laneQueue: Int = 256, cache: any Cache = InProcessCache(), voice: SpokenReplyComposer? = nil,
        _ body: @escaping @Sendable (EngineHarness) async throws -> Void
    ) async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: upstream.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? -1)
                portSink.finish()
            }, logger: logger)
        let lane = Lane(name: "realtime", maxConcurrent: laneConcurrency, queueLimit: laneQueue)
        let notices = Lane(name: "notices", maxConcurrent: 4, queueLimit: 64)
        let group = ServiceGroup(configuration: .init(services: [app, lane, notices], gracefulShutdownSignals: [], logger: logger))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome: Result<Void, any Error> = await {
            do {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {
                        defer { portSink.finish() }
                        try await group.run()
                    }
                    defer { tasks.cancelAll() }
                    var iterator = ports.makeAsyncIterator()
                    guard let port = await iterator.next(), port > 0 else { throw TimeLimitExceeded(limit: .zero) }
                    let provider = OpenAICompatibleProvider(
                        configuration: .init(name: "loop", baseURL: "http://127.0.0.1:\(port)/v1", apiKey: "k", models: ["m"], timeout: .seconds(10)),
                        client: client, logger: logger)
                    let usage = Locked([UsageRecord]())
                    let router = ChatRouter(
                        routes: [ChatRoute(provider: provider, model: "m", retryAttempts: 0)], settings: .init(strategy: .priority),
                        logger: logger, onAttempt: { record in usage.withLock { $0.append(record) } })
                    let store = SQLiteConversationStore(database: database)
                    let engine = ConversationEngine(
                        settings: settings, store: store, inbox: store.inbox, models: ChatModels(providers: [provider], defaultModel: "m"), router: router,
                        lane: lane, noticeLane: notices, cache: cache, voice: voice, logger: logger)
                    let ran: Result<Void, any Error>
                    do {
                        try await body(EngineHarness(engine: engine, store: store, router: router, upstream: upstream, usage: usage))
                        ran = .success(())
                    } catch {
                        ran = .failure(error)
                    }
                    // Nothing may stay held at the upstream, or its graceful shutdown would wait for it.
                    upstream.release()
                    try await client.shutdown()
                    await group.triggerGracefulShutdown()
                    try ran.get()
                }
                return .success(())
            } catch {
                try? await client.shutdown()
                return .failure(error)
            }
        }()
        try outcome.get()
    }

    /// A private message from `user` with message id `id`.
    static func message(_ text: String, from user: String = "1001", id: String) -> ConversationEvent {
        ConversationEvent(
            id: "qq:bot:\(user):\(id)", platform: .qq, botID: "bot", scope: .private(user: user), sender: Sender(id: user),
            content: [.text(text)], platformMessageID: id)
    }

    /// The stored history of `user`'s private session.
    func history(of user: String = "1001") async throws -> [StoredMessage] {
        try await store.snapshot(SessionKey(platform: .qq, botID: "bot", group: nil, user: user), limit: 100).history
    }
}

/// A door for the engine's tests: keeps every part it is given, in order, and lets a test wait for
/// the end of an answer.
final class RecordingSink: AnswerSink {
    struct Received: Sendable {
        var eventID: String
        var part: AnswerPart
    }

    let showsProgress: Bool
    /// Like a chat door that sends voice (QQ).
    var deliversAudio: Bool { true }
    private let received = Mutex([Received]())
    /// When set, every part waits for it to open before it is taken (a door that is slow to send).
    private let gate: Gate?

    init(showsProgress: Bool = false, holdingUntil gate: Gate? = nil) {
        self.showsProgress = showsProgress
        self.gate = gate
    }

    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        await gate?.wait()
        received.withLock { $0.append(Received(eventID: event.platformMessageID ?? event.id, part: part)) }
        return []
    }

    var parts: [Received] { received.withLock { $0 } }

    /// The terminal parts, in the order they came.
    var endings: [Received] { parts.filter(\.part.isTerminal) }

    /// The terminal part for message `id`, waiting (bounded) for it.
    func ending(of id: String, timeout: Duration = .seconds(10)) async throws -> AnswerPart {
        try await waitUntil(timeout: timeout) { $0.contains { $0.eventID == id && $0.part.isTerminal } }
        return parts.first { $0.eventID == id && $0.part.isTerminal }!.part
    }

    /// Waits (bounded) until `condition` holds for what was received.
    func waitUntil(timeout: Duration = .seconds(10), _ condition: @Sendable ([Received]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(parts) {
            guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(limit: timeout) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

extension AnswerPart {
    /// The reply's text for final, failure and notice parts.
    var text: String? {
        switch self {
        case .final(let reply), .failure(let reply, _), .notice(let reply, _): reply.text
        case .delta(let text), .sentence(let text): text
        case .cancelled: nil
        }
    }
}
