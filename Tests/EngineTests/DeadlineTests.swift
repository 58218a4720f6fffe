// SPDX-License-Identifier: Apache-2.0
import Synchronization
import Testing

@testable import Engine

/// `withDeadline` and the process-wide ``DeadlineWatch`` behind it.
struct DeadlineTests {
    struct Expired: Error {}

    /// Sleeps until cancelled (or a minute).
    static func hang() async throws -> Int {
        try await Task.sleep(for: .seconds(60))
        return 0
    }

    @Test func anOperationThatEndsInTimeKeepsItsResult() async throws {
        let value = try await withDeadline(.now + .seconds(30), expired: { Expired() }) { 42 }
        #expect(value == 42)
    }

    /// A ticket given back before its deadline leaves nothing watched (on a watch of its own: the
    /// shared one serves every test running at the same time).
    @Test func aTicketGivenBackLeavesNothingWatched() {
        let watch = DeadlineWatch()
        let ticket = watch.watch(.now + .seconds(30)) {}
        #expect(watch.count == 1)
        #expect(!watch.unwatch(ticket))
        #expect(watch.count == 0)
    }

    @Test func aStalledOperationIsCancelledAndTheCallerIsNot() async throws {
        let started = ContinuousClock.now
        await #expect(throws: Expired.self) {
            try await withDeadline(.now + .milliseconds(50), expired: { Expired() }) { try await Self.hang() }
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        // Expiry cancels the operation's task, never the caller's (whose cancellation would stick).
        #expect(!Task.isCancelled)
        let again = try await withDeadline(.now + .seconds(30), expired: { Expired() }) { "still usable" }
        #expect(again == "still usable")
    }

    @Test func anOperationsOwnErrorPassesThrough() async {
        struct Own: Error {}
        await #expect(throws: Own.self) {
            try await withDeadline(.now + .seconds(30), expired: { Expired() }) { () async throws -> Int in throw Own() }
        }
    }

    @Test func cancellingTheCallerCancelsTheOperation() async {
        let task = Task { try await withDeadline(.now + .seconds(30), expired: { Expired() }) { try await Self.hang() } }
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error is CancellationError)
    }

    @Test func anEarlierDeadlineWakesTheWatcherSooner() async throws {
        let watch = DeadlineWatch()
        let fired = Mutex([String]())
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let late = watch.watch(.now + .seconds(3600)) { fired.withLock { $0.append("late") } }
        let soon = watch.watch(.now + .milliseconds(20)) {
            fired.withLock { $0.append("soon") }
            continuation.yield("soon")
        }
        for await name in stream {
            #expect(name == "soon")
            break
        }
        #expect(watch.unwatch(soon))  // it had expired
        #expect(!watch.unwatch(late))  // it had not
        #expect(fired.withLock { $0 } == ["soon"])
        #expect(watch.count == 0)
    }

    @Test func aThousandDeadlinesAllExpireAndNoneIsLeftBehind() async throws {
        let watch = DeadlineWatch()
        let count = 1000
        let expired = Atomic<Int>(0)
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        var tickets = [DeadlineWatch.Ticket]()
        for index in 0..<count {
            tickets.append(
                watch.watch(.now + .milliseconds(10 + index % 20)) {
                    if expired.add(1, ordering: .relaxed).newValue == count { continuation.finish() }
                })
        }
        for await _ in stream {}
        #expect(expired.load(ordering: .relaxed) == count)
        #expect(tickets.allSatisfy { watch.unwatch($0) })
        #expect(watch.count == 0)
        // A ticket collected once is forgotten.
        #expect(!watch.unwatch(tickets[0]))
    }

    @Test func unwatchedDeadlinesNeverFire() async throws {
        let watch = DeadlineWatch()
        let fired = Atomic<Int>(0)
        let tickets = (0..<100).map { _ in watch.watch(.now + .milliseconds(5)) { fired.add(1, ordering: .relaxed) } }
        for ticket in tickets { #expect(!watch.unwatch(ticket)) }
        // A marker watched after them, due later, fires; nothing else did.
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        let marker = watch.watch(.now + .milliseconds(30)) { continuation.finish() }
        for await _ in stream {}
        #expect(watch.unwatch(marker))
        #expect(fired.load(ordering: .relaxed) == 0)
    }
}

/// The response cache's key: equal requests share it, any difference changes it.
struct ResponseCacheKeyTests {
    func request(_ messages: [(ChatMessage.Role, String)], model: String = "m", maxTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil)
        -> ChatRequest
    {
        var request = ChatRequest(model: model, messages: messages.map { ChatMessage(role: $0.0, content: $0.1) })
        request.maxTokens = maxTokens
        request.temperature = temperature
        request.topP = topP
        return request
    }

    @Test func equalRequestsShareTheKeyAndEveryFieldCounts() {
        let base = request([(.system, "be brief"), (.user, "hi")])
        #expect(ResponseCache.key(for: base) == ResponseCache.key(for: request([(.system, "be brief"), (.user, "hi")])))
        let variants = [
            request([(.system, "be brief"), (.user, "hi")], model: "n"),
            request([(.system, "be brie"), (.user, "fhi")]),  // the same characters split elsewhere
            request([(.system, "be brief"), (.assistant, "hi")]),
            request([(.system, "be brief"), (.user, "hi"), (.user, "")]),
            request([(.system, "be brief"), (.user, "hi")], maxTokens: 0),
            request([(.system, "be brief"), (.user, "hi")], temperature: 0),
            request([(.system, "be brief"), (.user, "hi")], topP: 0),
            request([(.system, "be brief"), (.user, "hí")]),
        ]
        var keys = Set([ResponseCache.key(for: base)])
        for variant in variants { keys.insert(ResponseCache.key(for: variant)) }
        #expect(keys.count == variants.count + 1)
        #expect(ResponseCache.key(for: base).hasPrefix("llm:"))
        #expect(ResponseCache.key(for: base).count == 4 + 64)
    }

    /// The key is the SHA-256 of each field with its length (little-endian 64-bit), in a fixed
    /// order; keys kept in Redis by an earlier version stay valid while this holds.
    @Test func theKeyIsTheDigestOfTheFieldsWithTheirLengths() {
        let key = ResponseCache.key(for: request([(.system, "be brief"), (.user, "hi")], maxTokens: 7))
        #expect(key == "llm:3031f3ce804a5c96e2b1d7c5a3c410581ea34e04a21e497ba8b3c0b6aeb14b4f")
    }
}
