// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

/// The engine without any door: ordered sessions, `/stop` and `/reset`, admission, cancellation
/// and accounting, against a real SQLite file and a loopback upstream.
@Suite(.timeLimit(.minutes(1)))
struct ConversationEngineTests {
    @Test func turnsOfOneSessionRunOneAtATimeInArrivalOrder() async throws {
        try await EngineHarness.run(upstream: EngineTestUpstream(delay: .milliseconds(100))) { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            for index in 1...5 {
                #expect(hub.engine.submit(EngineHarness.message("question \(index)", id: "m\(index)"), to: sink) == .accepted)
            }
            try await sink.waitUntil { $0.filter(\.part.isTerminal).count == 5 }
            // Each answer answers its own message, in the order they were sent.
            #expect(sink.endings.map(\.eventID) == ["m1", "m2", "m3", "m4", "m5"])
            #expect(sink.endings.map { $0.part.text } == (1...5).map { "echo: question \($0)" })
            // Each request saw every earlier exchange: system + 2 per earlier turn + its own message.
            #expect(hub.upstream.calls.map(\.messageCount) == [2, 4, 6, 8, 10])
            #expect(hub.upstream.peakConcurrency == 1)
            let history = try await hub.history()
            #expect(history.map(\.role) == Array(repeating: [ChatMessage.Role.user, .assistant], count: 5).flatMap { $0 })
            #expect(history.map(\.content) == (1...5).flatMap { ["question \($0)", "echo: question \($0)"] })
        }
    }

    @Test func differentSessionsRunConcurrently() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            for user in ["1", "2", "3"] {
                for index in 1...2 {
                    hub.engine.submit(EngineHarness.message("held \(index)", from: user, id: "\(user)-\(index)"), to: sink)
                }
            }
            // Three sessions at once (their first turns all reach the upstream, which holds them),
            // each one turn at a time.
            try await hub.upstream.waitUntil { $0.count == 3 }
            #expect(hub.upstream.calls.map(\.message) == ["held 1", "held 1", "held 1"])
            hub.upstream.release()
            try await sink.waitUntil { $0.filter(\.part.isTerminal).count == 6 }
            #expect(hub.upstream.peakConcurrency == 3)
            for user in ["1", "2", "3"] {
                #expect(sink.endings.filter { $0.eventID.hasPrefix("\(user)-") }.map(\.eventID) == ["\(user)-1", "\(user)-2"])
            }
        }
    }

    @Test func aFullSessionQueueGetsTheBusyNotice() async throws {
        try await EngineHarness.run(settings: EngineSettings(sessionQueueLimit: 2)) { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            #expect(hub.engine.submit(EngineHarness.message("held 1", id: "m1"), to: sink) == .accepted)
            try await hub.upstream.waitUntil { $0.count == 1 }  // running, held at the upstream
            #expect(hub.engine.submit(EngineHarness.message("two", id: "m2"), to: sink) == .accepted)
            #expect(hub.engine.submit(EngineHarness.message("three", id: "m3"), to: sink) == .accepted)
            #expect(hub.engine.submit(EngineHarness.message("four", id: "m4"), to: sink) == .busy)
            guard case .notice(let reply, .busy) = try await sink.ending(of: "m4") else {
                Issue.record("no busy notice")
                return
            }
            #expect(reply.text == ConversationEngine.Admission.busy.notice)
            hub.upstream.release()
            for id in ["m1", "m2", "m3"] { #expect(try await sink.ending(of: id).text?.hasPrefix("echo: ") == true) }
            #expect(sink.endings.map(\.eventID) == ["m4", "m1", "m2", "m3"])
        }
    }

    @Test func stopCancelsTheRunningAnswerAndKeepsNothingOfIt() async throws {
        try await EngineHarness.run(upstream: EngineTestUpstream(streamPause: .milliseconds(60))) { (hub: EngineHarness) async throws in
            let sink = RecordingSink(showsProgress: true)
            let long = "tell me a long story with many many words in it one two three four five six seven"
            hub.engine.submit(EngineHarness.message(long, id: "m1"), to: sink)
            try await sink.waitUntil { $0.contains { if case .delta = $0.part { true } else { false } } }
            #expect(hub.engine.submit(EngineHarness.message("/stop", id: "m2"), to: sink) == .accepted)
            #expect(try await sink.ending(of: "m1") == .cancelled)
            #expect(try await sink.ending(of: "m2").text == "Stopped.")
            // The upstream saw its client go away before the answer was finished.
            try await hub.upstream.waitUntil { $0.first?.cancelled == true }
            #expect(try await hub.history().isEmpty)
            // A cancellation is no failure of the route.
            let health = try #require(hub.router.health.first)
            #expect(health.breaker == "closed")
            #expect(health.statistics.failures == 0)
            #expect(hub.usage.value.map(\.outcome) == ["cancelled"])
            // The session goes on: the next message is answered with an empty history.
            hub.engine.submit(EngineHarness.message("again", id: "m3"), to: sink)
            #expect(try await sink.ending(of: "m3").text == "echo: again")
            #expect(hub.upstream.calls.last?.messageCount == 2)
        }
    }

    @Test func commandsThatJumpTheQueueAreBoundedToo() async throws {
        try await EngineHarness.run(settings: EngineSettings(sessionQueueLimit: 2)) { (hub: EngineHarness) async throws in
            let gate = Gate()
            let sink = RecordingSink(holdingUntil: gate)
            hub.engine.submit(EngineHarness.message("held", id: "m1"), to: sink)
            try await hub.upstream.waitUntil { $0.count == 1 }
            // The first /stop cancels the held turn, whose ending then waits at the door (the gate):
            // the session stays busy while the other /stops arrive.
            #expect(hub.engine.submit(EngineHarness.message("/stop", id: "s0"), to: sink) == .accepted)
            var admissions = [ConversationEngine.Admission]()
            for index in 1...10 { admissions.append(hub.engine.submit(EngineHarness.message("/stop", id: "s\(index)"), to: sink)) }
            // s0 waits in the queue; three more fit in twice the session's bound; the rest are busy.
            #expect(admissions.filter { $0 == .accepted }.count == 3)
            #expect(admissions.filter { $0 == .busy }.count == 7)
            gate.open()
            hub.upstream.release()
            // m1 cancelled, s0…s3 answered, seven busy notices.
            try await sink.waitUntil { $0.filter(\.part.isTerminal).count == 12 }
            #expect(try await sink.ending(of: "m1") == .cancelled)
            #expect(sink.endings.filter { if case .notice(_, .busy) = $0.part { true } else { false } }.count == 7)
        }
    }

    @Test func aSecondResetStillTellsTheTurnsTheFirstOneDropped() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(EngineHarness.message("held", id: "m1"), to: sink)
            try await hub.upstream.waitUntil { $0.count == 1 }
            hub.engine.submit(EngineHarness.message("two", id: "m2"), to: sink)
            hub.engine.submit(EngineHarness.message("three", id: "m3"), to: sink)
            hub.engine.submit(EngineHarness.message("/reset", id: "r1"), to: sink)
            hub.engine.submit(EngineHarness.message("/reset", id: "r2"), to: sink)
            // r2 drops r1 (still waiting); r1's dropped turns are told all the same.
            for id in ["m1", "m2", "m3", "r1"] { #expect(try await sink.ending(of: id) == .cancelled, "\(id)") }
            #expect(try await sink.ending(of: "r2").text == "Conversation cleared. Let's start fresh.")
        }
    }

    @Test func aBusyAnswerStreamGetsItsNoticeEvenWithoutANoticeLaneSlot() async throws {
        try await EngineHarness.run(settings: EngineSettings(sessionQueueLimit: 1)) { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(EngineHarness.message("held", id: "m1"), to: sink)
            try await hub.upstream.waitUntil { $0.count == 1 }
            hub.engine.submit(EngineHarness.message("waits", id: "m2"), to: sink)
            let (admission, answer) = hub.engine.answer(EngineHarness.message("refused", id: "m3"), showsProgress: false)
            #expect(admission == .busy)
            var parts = [AnswerPart]()
            for await part in answer { parts.append(part) }
            guard parts.count == 1, case .notice(_, .busy) = parts[0] else {
                Issue.record("expected the busy notice alone, got \(parts)")
                return
            }
        }
    }

    @Test func stopWithNothingRunningSaysSo() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(EngineHarness.message("/stop", id: "m1"), to: sink)
            #expect(try await sink.ending(of: "m1").text == "Nothing to stop.")
        }
    }

    @Test func resetDropsWhatWaitsAndCancelsWhatRuns() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(EngineHarness.message("first", id: "m0"), to: sink)
            #expect(try await sink.ending(of: "m0").text == "echo: first")
            hub.engine.submit(EngineHarness.message("held", id: "m1"), to: sink)
            try await hub.upstream.waitUntil { $0.count == 2 }
            for index in 2...4 { hub.engine.submit(EngineHarness.message("queued \(index)", id: "m\(index)"), to: sink) }
            #expect(hub.engine.submit(EngineHarness.message("/reset", id: "r"), to: sink) == .accepted)
            #expect(try await sink.ending(of: "r").text == "Conversation cleared. Let's start fresh.")
            // None of the four is answered: the running one was cancelled, the three waiting dropped.
            for id in ["m1", "m2", "m3", "m4"] { #expect(try await sink.ending(of: id) == .cancelled) }
            hub.upstream.release()
            #expect(hub.upstream.calls.map(\.message) == ["first", "held"])
            #expect(try await hub.history().isEmpty)
            // The reset came after the cancelled turn ended: nothing it could have written survives.
            hub.engine.submit(EngineHarness.message("after", id: "m5"), to: sink)
            #expect(try await sink.ending(of: "m5").text == "echo: after")
            #expect(try await hub.history().map(\.content) == ["after", "echo: after"])
        }
    }

    @Test func aReaderThatCancelsEndsItsTurn() async throws {
        try await EngineHarness.run(upstream: EngineTestUpstream(streamPause: .milliseconds(60))) { (hub: EngineHarness) async throws in
            let (admission, answer) = hub.engine.answer(
                EngineHarness.message("a long answer please with quite a few words to stream slowly", id: "m1"), showsProgress: true)
            #expect(admission == .accepted)
            var iterator = answer.makeAsyncIterator()
            guard case .delta = await iterator.next() else {
                Issue.record("the first part is not a delta")
                return
            }
            await answer.cancel()
            #expect(await iterator.next() == nil)
            try await hub.upstream.waitUntil { $0.first?.cancelled == true }
            try await hub.usageWait { $0 == ["cancelled"] }
            #expect(try await hub.history().isEmpty)
        }
    }

    @Test func anAnswerReadAsASequenceEndsWithItsFinalPart() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let (admission, answer) = hub.engine.answer(
                EngineHarness.message("one. two! three", id: "m1"), showsProgress: true, wantsSentences: true)
            #expect(admission == .accepted)
            var parts = [AnswerPart]()
            for await part in answer { parts.append(part) }
            #expect(parts.last?.text == "echo: one. two! three")
            #expect(parts.compactMap { if case .delta(let text) = $0 { text } else { nil } }.joined() == "echo: one. two! three")
            #expect(parts.compactMap { if case .sentence(let text) = $0 { text } else { nil } } == ["echo: one.", "two!", "three"])
            guard case .final(let reply) = parts.last else { return }
            #expect(reply.model == "m")
            // A duplicate's and an ignored message's sequences are empty.
            let (again, repeated) = hub.engine.answer(EngineHarness.message("one. two! three", id: "m1"), showsProgress: false)
            #expect(again == .duplicate)
            var count = 0
            for await _ in repeated { count += 1 }
            #expect(count == 0)
        }
    }

    @Test func aRateLimitedMessageGetsItsNoticeOnce() async throws {
        let settings = EngineSettings(rateLimitPerUser: Rate(count: 1, period: .seconds(60)))
        try await EngineHarness.run(settings: settings) { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            for index in 1...3 { #expect(hub.engine.submit(EngineHarness.message("hi \(index)", id: "m\(index)"), to: sink) == .accepted) }
            #expect(try await sink.ending(of: "m1").text == "echo: hi 1")
            guard case .notice(let first, .limited) = try await sink.ending(of: "m2"),
                case .notice(let second, .limited) = try await sink.ending(of: "m3")
            else {
                Issue.record("no rate-limit notices")
                return
            }
            #expect(first.text.hasPrefix("You're sending messages too fast"))
            #expect(second.text.isEmpty)  // told once per period
            #expect(hub.upstream.calls.count == 1)
        }
    }

    @Test func groupRepliesQuoteAndMentionAndAreNotSplitByTheEngine() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            let long = String(repeating: "word ", count: 1000)
            let event = ConversationEvent(
                id: "qq:bot:g:1", platform: .qq, botID: "bot", scope: .group(group: "77", user: "1001"), sender: Sender(id: "1001"),
                content: [.mention("bot"), .text(long)], platformMessageID: "g1")
            #expect(hub.engine.submit(event, to: sink) == .accepted)
            guard case .final(let reply) = try await sink.ending(of: "g1") else {
                Issue.record("no answer")
                return
            }
            #expect(reply.parts.count == 3)
            #expect(reply.parts.first == .quote("g1"))
            #expect(reply.parts.dropFirst().first == .mention("1001"))
        }
    }
}

extension EngineHarness {
    /// Waits (bounded) until the usage outcomes satisfy `condition`.
    func usageWait(timeout: Duration = .seconds(10), _ condition: @Sendable ([String]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(usage.value.map(\.outcome)) {
            guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(limit: timeout) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
