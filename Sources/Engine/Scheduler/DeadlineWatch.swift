// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// One watcher for every deadline in the process: it sleeps until the earliest deadline being
/// watched and runs the `onExpiry` of each one that passed, instead of a timer per call.
///
/// Calls under one timeout register deadlines in the order they end, so under load the watcher
/// wakes about once per timeout, not once per call: starting and cancelling a sleep for every
/// upstream request (a timer on the dispatch manager thread, and its wake-ups) cost about 4% of
/// the hub's CPU per reply (`perf`, Benchmarks/README.md).
public final class DeadlineWatch: Sendable {
    /// The process's watcher.
    public static let shared = DeadlineWatch()

    /// A registration, returned by ``watch(_:onExpiry:)``.
    public struct Ticket: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let onExpiry: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        /// Tickets whose deadline passed and that ``unwatch(_:)`` has not collected yet.
        var expired: Set<UInt64> = []
        var nextID: UInt64 = 0
        /// When the current watcher wakes; nil when none runs.
        var wakeAt: ContinuousClock.Instant?
        /// The current watcher's generation: an earlier deadline starts a new watcher, and the old
        /// one stops when it sees it is no longer current.
        var generation: UInt64 = 0
        var watcher: Task<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `onExpiry` once `deadline` passes, unless ``unwatch(_:)`` came first. `onExpiry` runs on
    /// the watcher's task and must not block.
    public func watch(_ deadline: ContinuousClock.Instant, onExpiry: @escaping @Sendable () -> Void) -> Ticket {
        state.withLock { state in
            state.nextID &+= 1
            let id = state.nextID
            state.entries[id] = Entry(deadline: deadline, onExpiry: onExpiry)
            if state.wakeAt.map({ deadline < $0 }) ?? true {
                startWatcher(until: deadline, in: &state)
            }
            return Ticket(id: id)
        }
    }

    /// Stops watching `ticket`; true when its deadline had passed (its `onExpiry` ran or runs now).
    @discardableResult
    public func unwatch(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            if state.entries.removeValue(forKey: ticket.id) != nil { return false }
            return state.expired.remove(ticket.id) != nil
        }
    }

    /// Deadlines being watched.
    public var count: Int { state.withLock { $0.entries.count } }

    private func startWatcher(until wake: ContinuousClock.Instant, in state: inout State) {
        state.generation &+= 1
        state.wakeAt = wake
        state.watcher?.cancel()
        let generation = state.generation
        state.watcher = Task { [self] in await run(generation: generation) }
    }

    private func run(generation: UInt64) async {
        while true {
            guard let wake = state.withLock({ $0.generation == generation ? $0.wakeAt : nil }) else { return }
            try? await Task.sleep(until: wake, clock: .continuous)
            if Task.isCancelled { return }
            let due = state.withLock { state -> [@Sendable () -> Void]? in
                guard state.generation == generation else { return nil }
                let now = ContinuousClock.now
                var due = [UInt64]()
                var earliest: ContinuousClock.Instant?
                for (id, entry) in state.entries {
                    if entry.deadline <= now {
                        due.append(id)
                    } else if earliest.map({ entry.deadline < $0 }) ?? true {
                        earliest = entry.deadline
                    }
                }
                let onExpiry = due.compactMap { state.entries.removeValue(forKey: $0)?.onExpiry }
                state.expired.formUnion(due)
                state.wakeAt = earliest
                if earliest == nil { state.watcher = nil }
                return onExpiry
            }
            guard let due else { return }
            for onExpiry in due { onExpiry() }
        }
    }
}
