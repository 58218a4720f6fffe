// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import Synchronization

extension ConversationEngine {
    /// What a start found in the inbox and did with it.
    public struct ReplayReport: Sendable, Hashable {
        /// Events whose turn ran again (received, or stopped while the model answered).
        public var answered = 0
        /// Events whose answer was stored but not yet handed to the door: sent again as stored.
        public var resent = 0
        /// Events older than the replay window: marked expired, never answered.
        public var expired = 0
        /// Events that could not be replayed (no longer readable, or no door takes their platform).
        public var dropped = 0

        public init() {}
    }

    /// Answers, in order per session and through the normal pipeline, every event a previous run
    /// accepted but did not answer, if it is younger than ``EngineSettings/replayWindow``; older
    /// ones are marked expired and logged. `sink` gives the door's sink for an event's platform (nil:
    /// no door takes it now). Call once at start, after ``restoreRecentInbound()``: replayed events
    /// are then known to the de-duplication, so a bot delivering one again gets no second answer.
    ///
    /// The network admission (rate limits, other hubs' dedupe keys) is not asked again: the events
    /// were accepted before. Waits while a session's queue or the lane is full, so a long backlog
    /// cannot push out live traffic or be refused.
    @discardableResult
    public func replayUnanswered(sink: @Sendable (ConversationEvent) -> (any AnswerSink)?) async throws -> ReplayReport {
        var report = ReplayReport()
        let cutoff = Date().addingTimeInterval(-settings.replayWindow)
        let expired = try await inbox.expireOpen(before: cutoff)
        report.expired = expired.count
        if !expired.isEmpty {
            logger.warning(
                "unanswered events older than the replay window expired",
                metadata: ["hub.count": "\(expired.count)", "hub.events": "\(expired.prefix(20).joined(separator: ","))"])
        }
        var last: InboxEntry?
        while true {
            let page = try await inbox.open(since: cutoff, after: last, limit: 256)
            guard !page.isEmpty else { break }
            last = page.last
            for entry in page {
                try Task.checkCancellation()
                guard let event = entry.event, let door = sink(event) else {
                    report.dropped += 1
                    logger.warning("unanswered event cannot be replayed", metadata: ["hub.event": "\(entry.key)"])
                    inbox.markAnswered(entry.key, receivedAt: entry.receivedAt, outcome: .undelivered)
                    continue
                }
                if entry.state == .replying, let reply = entry.reply {
                    report.resent += 1
                    await enqueueReplay(event, sink: door) { [self] in await self.finish(.final(self.decorate(.text(reply), for: event)), for: event, sink: door) }
                } else {
                    // It was accepted, so it was for the bot: a quote of the bot's message counts
                    // (the ledger of sent ids did not survive the restart).
                    let decision = settings.policy.decide(event, quotesBot: true)
                    if case .ignore = decision {
                        report.dropped += 1
                        inbox.markAnswered(entry.key, receivedAt: entry.receivedAt, outcome: .undelivered)
                        continue
                    }
                    report.answered += 1
                    let key = sessionKey(for: event)
                    await enqueueReplay(event, sink: door) { [self] in
                        await self.take(event, decision: decision, key: key, sink: door, stored: nil, replayed: true)
                    }
                }
            }
        }
        if report != ReplayReport() {
            logger.notice(
                "inbox replayed",
                metadata: [
                    "hub.answered": "\(report.answered)", "hub.resent": "\(report.resent)", "hub.expired": "\(report.expired)",
                    "hub.dropped": "\(report.dropped)",
                ])
        }
        return report
    }

    /// Writes what the inbox holds back to share a transaction (the records of answered events):
    /// call at shutdown, after the doors stopped, so a restart does not answer them again.
    public func flushInbox() async {
        await inbox.flush()
    }

    /// Queues a replayed turn in its session, waiting (with backoff) while the session or the lane is full.
    private func enqueueReplay(_ event: ConversationEvent, sink: any AnswerSink, run: @escaping @Sendable () async -> Void) async {
        let key = sessionKey(for: event)
        let turn = SessionScheduler.Turn(
            id: turnCounter.wrappingAdd(1, ordering: .relaxed).newValue, run: run,
            dropped: { [self] in await self.finish(.cancelled, for: event, sink: sink) })
        var delay = Duration.milliseconds(5)
        while scheduler.enqueue(turn, for: key) != .queued {
            guard (try? await Task.sleep(for: delay)) != nil else { return }
            delay = min(delay * 2, .milliseconds(500))
        }
    }
}
