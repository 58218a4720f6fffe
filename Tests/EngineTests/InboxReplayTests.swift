// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

/// The durable inbox, without any door: an accepted event is stored before its turn and walks
/// received → answering → replying → answered; a start answers what a crash left open, in order
/// per session, resends a stored answer without asking the model again, and expires what is too old.
@Suite(.timeLimit(.minutes(1)))
struct InboxReplayTests {
    @Test func anAcceptedEventIsStoredBeforeItsTurnAndEndsAnswered() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            let event = EngineHarness.message("held 1", id: "m1")
            let (admission, stored) = await hub.engine.submitDurably(event, to: sink)
            #expect(admission == .accepted)
            #expect(stored)
            // Stored with the whole event while the model writes its answer.
            try await hub.upstream.waitUntil { $0.count == 1 }
            let open = try await hub.store.inbox.open(since: .distantPast, after: nil, limit: 10)
            #expect(open.map(\.event) == [event])
            // `answering` rides along with the next inbox write: here another user's message.
            #expect(await hub.engine.submitDurably(EngineHarness.message("held 2", from: "2002", id: "m2"), to: sink).stored)
            #expect(try await hub.store.inbox.state(of: event.id) == .answering)
            hub.upstream.release()
            _ = try await sink.ending(of: "m1")
            _ = try await sink.ending(of: "m2")
            // Recorded right after the door took the answer.
            try await eventually { try await hub.store.inbox.state(of: event.id) == .answered }
            try await eventually { try await hub.store.inbox.open(since: .distantPast, after: nil, limit: 10).isEmpty }
        }
    }

    /// A request whose client reads the answer itself is not journaled, but its answer is stored
    /// with the history: that record must end answered, or a restart would send it again.
    @Test func anAnswerStreamLeavesNothingOpen() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            hub.upstream.release()
            let (admission, stream) = hub.engine.answer(EngineHarness.message("streamed", id: "s1"), showsProgress: false)
            #expect(admission == .accepted)
            var parts = [AnswerPart]()
            for try await part in stream { parts.append(part) }
            #expect(parts.last?.text == "echo: streamed")
            try await eventually { try await hub.store.inbox.counts() == [.answered: 1] }
            #expect(try await hub.store.inbox.open(since: .distantPast, after: nil, limit: 10).isEmpty)
        }
    }

    @Test func refusedAndIgnoredEventsLeaveNothingOpen() async throws {
        try await EngineHarness.run(settings: EngineSettings(sessionQueueLimit: 1)) { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            #expect(await hub.engine.submitDurably(EngineHarness.message("held 1", id: "a"), to: sink).admission == .accepted)
            try await hub.upstream.waitUntil { $0.count == 1 }
            #expect(await hub.engine.submitDurably(EngineHarness.message("two", id: "b"), to: sink).admission == .accepted)
            // The session's queue holds nothing more: busy, told, and answered in the inbox.
            #expect(await hub.engine.submitDurably(EngineHarness.message("three", id: "c"), to: sink).admission == .busy)
            _ = try await sink.ending(of: "c")
            try await eventually { try await hub.store.inbox.state(of: "qq:bot:1001:c") == .answered }
            // Not for the bot: not stored at all.
            let group = ConversationEvent(
                id: "qq:bot:g:9", platform: .qq, botID: "bot", scope: .group(group: "5", user: "9"), sender: Sender(id: "9"),
                content: [.text("just chatting")])
            #expect(await hub.engine.submitDurably(group, to: sink).admission == .ignored(.notAddressed))
            #expect(try await hub.store.inbox.state(of: group.id) == nil)
            hub.upstream.release()
            _ = try await sink.ending(of: "a")
            _ = try await sink.ending(of: "b")
            try await eventually { try await hub.store.inbox.open(since: .distantPast, after: nil, limit: 10).isEmpty }
        }
    }

    @Test func aRestartAnswersWhatWasLeftOpenInOrderPerSession() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let inbox = hub.store.inbox
            // What a crash left: three users' messages received, one answer stored but not sent,
            // one message older than the replay window.
            let old = ConversationEvent(
                id: "qq:bot:9:old", platform: .qq, botID: "bot", scope: .private(user: "9"), sender: Sender(id: "9"),
                content: [.text("too old")], platformMessageID: "old", receivedAt: Date().addingTimeInterval(-3600))
            try await inbox.receive(old).stored()
            for index in 1...3 {
                for user in ["1", "2", "3"] {
                    try await inbox.receive(EngineHarness.message("q\(index) from \(user)", from: user, id: "\(user)-\(index)")).stored()
                }
            }
            // Inserts may commit out of order (each is its own task); the time received decides.
            var later = EngineHarness.message("q2 from 5", from: "5", id: "5-2")
            later.receivedAt = Date().addingTimeInterval(1)
            try await inbox.receive(later).stored()
            try await inbox.receive(EngineHarness.message("q1 from 5", from: "5", id: "5-1")).stored()
            let pending = EngineHarness.message("already answered", from: "4", id: "4-1")
            try await inbox.receive(pending).stored()
            try await hub.store.append(
                [StoredMessage(role: .user, content: "already answered"), StoredMessage(role: .assistant, content: "the stored answer")],
                to: hub.engine.sessionKey(for: pending), answering: InboxReply(eventKey: pending.id, receivedAt: pending.receivedAt, text: "the stored answer"))

            let sink = RecordingSink()
            try await hub.engine.restoreRecentInbound()
            let report = try await hub.engine.replayUnanswered { _ in sink }
            #expect(report.answered == 11)
            #expect(report.resent == 1)
            #expect(report.expired == 1)
            #expect(report.dropped == 0)
            try await sink.waitUntil { $0.count == 12 }
            #expect(sink.endings.filter { $0.eventID.hasPrefix("5-") }.map(\.eventID) == ["5-1", "5-2"])
            for user in ["1", "2", "3"] {
                #expect(sink.endings.filter { $0.eventID.hasPrefix("\(user)-") }.map { $0.part.text } == (1...3).map { "echo: q\($0) from \(user)" })
            }
            // Resent as stored: the model was not asked again, and the history has it once.
            #expect(sink.endings.first { $0.eventID == "4-1" }?.part.text == "the stored answer")
            #expect(!hub.upstream.calls.contains { $0.message == "already answered" })
            #expect(try await hub.history(of: "4").map(\.content) == ["already answered", "the stored answer"])
            #expect(try await inbox.state(of: old.id) == .expired)
            try await eventually { try await inbox.counts() == [.answered: 12, .expired: 1] }
            // A bot delivering a replayed event again gets no second answer.
            #expect(hub.engine.submit(EngineHarness.message("q1 from 1", from: "1", id: "1-1"), to: sink) == .duplicate)
            // Nothing is left to replay.
            #expect(try await hub.engine.replayUnanswered { _ in sink } == .init())
        }
    }

    @Test func eventsNoDoorTakesAreDroppedNotLeftOpen() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            try await hub.store.inbox.receive(EngineHarness.message("hello", id: "x")).stored()
            let report = try await hub.engine.replayUnanswered { _ in nil }
            #expect(report.dropped == 1)
            try await eventually { try await hub.store.inbox.state(of: "qq:bot:1001:x") == .answered }
        }
    }

    @Test func theEventSurvivesTheRoundTripThroughTheInbox() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let event = ConversationEvent(
                id: "qq:1:group:2:3:4", platform: .qq, botID: "1", scope: .group(group: "2", user: "3"),
                sender: Sender(id: "3", name: "名字 \u{1F600}", role: .admin),
                content: [
                    .text("a\"b\\c\n"), .mention("1"), .quote("77"), .image(.url("https://x/y.png")), .audio(.bytes([0, 1, 255], format: "amr")),
                    .unknown(type: "face", data: ["id": "14", "n": .double(1.5), "list": [true, .null]]),
                ],
                platformMessageID: "4", receivedAt: Date(timeIntervalSince1970: 1_717_000_000.25))
            try await hub.store.inbox.receive(event).stored()
            try await hub.store.inbox.receive(event).stored()  // a second delivery changes nothing
            #expect(try await hub.store.inbox.counts() == [.received: 1])
            #expect(try await hub.store.inbox.open(since: .distantPast, after: nil, limit: 1).first?.event == event)
        }
    }
}
