// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Logging
import ServiceLifecycle

/// At start, answers every event the previous run accepted and left unanswered (within
/// `engine.replay_window`), through the door it came in by: QQ replies go to the bot (its live
/// connection, its HTTP API, or the outbox until it reconnects); web answers land in the client's
/// history, which the page shows when it comes back.
struct InboxReplayService: Service {
    let engine: ConversationEngine
    let oneBot: OneBotDoor
    /// Fired once the database is migrated and the de-duplication restored.
    let ready: StartSignal
    let logger: Logger

    func run() async throws {
        // Cancelled (the hub stopping before it started): nothing to replay now.
        await withTaskCancellationHandler { await ready.wait() } onCancel: { ready.fire() }
        guard !Task.isCancelled else {
            await engine.flushInbox()
            return
        }
        do {
            let sinks: [Platform: any AnswerSink] = [.qq: oneBot.replySink, .web: HistoryOnlySink()]
            try await engine.replayUnanswered { sinks[$0.platform] }
        } catch is CancellationError {
            return
        } catch {
            logger.error("inbox replay failed", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
        // The records of the last answers, held back to share a transaction, go in before the end.
        await engine.flushInbox()
    }
}
