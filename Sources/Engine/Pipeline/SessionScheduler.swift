// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// Runs the turns of each session one at a time, in the order they arrived, on a ``Lane``.
///
/// A session with work holds exactly one job on the lane (queued or running) that takes its turns
/// in order until none is left, so different sessions run concurrently within the lane's bound and
/// one session never runs two turns at once. Each session's queue is bounded; ``enqueue(_:for:jump:)``
/// never waits. ``stop(_:)`` cancels the running turn (its task is cancelled, so its upstream
/// request ends at once); ``dropAll(_:)`` takes every queued turn out. Commands that must not wait
/// behind the turns they stop (`/stop`, `/reset`) jump the queue, within a second allowance of the
/// same size.
///
/// ```swift
/// let scheduler = SessionScheduler(lane: lane, queueLimit: 8)
/// switch scheduler.enqueue(.init(run: { await answer(event) }, dropped: { await tellCancelled(event) }), for: key) {
/// case .queued: break
/// case .sessionFull, .laneFull: await tellBusy(event)
/// }
/// ```
public final class SessionScheduler: Sendable {
    /// One unit of a session's work.
    public struct Turn: Sendable {
        /// Names the turn for ``SessionScheduler/cancel(_:in:)``.
        public var id: UInt64
        /// Runs the turn; its task is cancelled by ``SessionScheduler/stop(_:)``.
        public var run: @Sendable () async -> Void
        /// Called instead of `run` when the turn is dropped before it started.
        public var dropped: @Sendable () async -> Void

        public init(id: UInt64, run: @escaping @Sendable () async -> Void, dropped: @escaping @Sendable () async -> Void) {
            self.id = id
            self.run = run
            self.dropped = dropped
        }
    }

    /// What ``enqueue(_:for:jump:)`` did.
    public enum Outcome: Sendable, Hashable {
        /// The turn will run after the session's earlier turns.
        case queued
        /// The session already has its limit of turns waiting.
        case sessionFull
        /// The lane could not take another session.
        case laneFull
    }

    private struct Session {
        var queue = CircularBuffer<Turn>()
        /// The turn the job has taken and not finished.
        var running: UInt64?
        /// The running turn's task, once it has started.
        var task: Task<Void, Never>?
        /// Set by `stop` when no task was there yet to cancel; the next task is cancelled at once.
        var stopRequested = false
    }

    /// The lane the sessions' jobs run on.
    public let lane: Lane
    /// Most turns waiting per session (the running one not counted).
    public let queueLimit: Int
    private let sessions = Mutex([SessionKey: Session]())

    public init(lane: Lane, queueLimit: Int) {
        self.lane = lane
        self.queueLimit = max(1, queueLimit)
    }

    /// Queues `turn` behind the session's earlier turns, or at the front when `jump` is set (then
    /// up to twice the session's bound). Never waits.
    public func enqueue(_ turn: Turn, for key: SessionKey, jump: Bool = false) -> Outcome {
        sessions.withLock { sessions -> Outcome in
            if var session = sessions[key] {
                // A job for this session is queued or running and will take this turn too.
                if jump {
                    // Commands that jump are bounded too, by a second allowance of the same size:
                    // a flood of `/stop`s cannot grow a session's queue without limit.
                    guard session.queue.count < 2 * queueLimit else { return .sessionFull }
                    session.queue.prepend(turn)
                } else {
                    guard session.queue.count < queueLimit else { return .sessionFull }
                    session.queue.append(turn)
                }
                sessions[key] = session
                return .queued
            }
            // A new session: its job goes on the lane under the same lock, so no other turn can
            // join a session whose job the lane then refuses. (The lane's queue takes its own
            // lock and never calls back here.)
            guard lane.submit({ [self] in await self.drain(key) }) else { return .laneFull }
            var session = Session()
            session.queue.append(turn)
            sessions[key] = session
            return .queued
        }
    }

    /// Cancels the session's running turn; false when none is running.
    @discardableResult
    public func stop(_ key: SessionKey) -> Bool {
        stop(key, only: nil)
    }

    @discardableResult
    private func stop(_ key: SessionKey, only id: UInt64?) -> Bool {
        let task = sessions.withLock { sessions -> Task<Void, Never>?? in
            guard var session = sessions[key], let running = session.running, id == nil || id == running else { return .none }
            guard let task = session.task else {
                // The job took the turn but has not started its task yet; it cancels it when it does.
                session.stopRequested = true
                sessions[key] = session
                return .some(nil)
            }
            return .some(task)
        }
        switch task {
        case .none: return false
        case .some(let task?):
            task.cancel()
            return true
        case .some(nil): return true
        }
    }

    /// Cancels the turn `id` of session `key`: stops it when it runs, takes it out of the queue (and
    /// tells it through its `dropped`) when it waits; does nothing once it has finished.
    public func cancel(_ id: UInt64, in key: SessionKey) async {
        enum Found { case running, queued(Turn), none }
        let found = sessions.withLock { sessions -> Found in
            guard var session = sessions[key] else { return .none }
            if session.running == id { return .running }
            guard let index = session.queue.firstIndex(where: { $0.id == id }) else { return .none }
            let turn = session.queue.remove(at: index)
            sessions[key] = session
            return .queued(turn)
        }
        switch found {
        case .running: stop(key, only: id)
        case .queued(let turn): await turn.dropped()
        case .none: break
        }
    }

    /// Takes every turn still waiting in the session's queue out of it and returns them, oldest
    /// first; the caller tells each through its `dropped`.
    public func dropAll(_ key: SessionKey) -> [Turn] {
        sessions.withLock { sessions -> [Turn] in
            guard var session = sessions[key] else { return [] }
            let turns = Array(session.queue)
            session.queue.removeAll()
            sessions[key] = session
            return turns
        }
    }

    /// Turns waiting in `key`'s queue (the running one not counted).
    public func queuedCount(_ key: SessionKey) -> Int {
        sessions.withLock { $0[key]?.queue.count ?? 0 }
    }

    /// Sessions with a turn running or waiting.
    public var activeSessions: Int { sessions.withLock { $0.count } }

    // MARK: The session's job

    private func drain(_ key: SessionKey) async {
        while let turn = next(key) {
            // Its own task, so that `stop` can cancel this turn and not the lane's job.
            let task = Task { await turn.run() }
            let cancelNow = sessions.withLock { sessions -> Bool in
                sessions[key]?.task = task
                return sessions[key]?.stopRequested ?? false
            }
            if cancelNow { task.cancel() }
            await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
        }
    }

    /// The session's next turn, or nil (and the session forgotten) when its queue is empty.
    private func next(_ key: SessionKey) -> Turn? {
        sessions.withLock { sessions -> Turn? in
            guard var session = sessions[key] else { return nil }
            session.task = nil
            session.stopRequested = false
            session.running = nil
            guard let turn = session.queue.popFirst() else {
                sessions.removeValue(forKey: key)
                return nil
            }
            session.running = turn.id
            sessions[key] = session
            return turn
        }
    }
}
