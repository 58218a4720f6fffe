// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization

/// The live OneBot connections, keyed by (self_id, role), for many bots at once.
///
/// A new connection that conflicts with a live one replaces it (Universal conflicts with API and
/// Event of the same bot); the caller closes the replaced ones. Removal checks the generation, so
/// the late close of an old socket never removes its successor. Callers can wait, with a deadline,
/// for a bot to come back.
public final class OneBotConnectionRegistry: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<OneBotConnection?, Never>
    }

    private struct State {
        var connections: [Int64: [OneBotRole: OneBotConnection]] = [:]
        var waiters: [Int64: [Waiter]] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())
    private let generations = Atomic<UInt64>(0)

    public init() {}

    /// A fresh generation number for a new connection.
    func nextGeneration() -> UInt64 {
        generations.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Adds `connection`; returns the connections it replaces. `report` gets the number of bots
    /// connected after the change, under the lock (so reports cannot arrive out of order).
    func register(_ connection: OneBotConnection, report: (Int) -> Void = { _ in }) -> [OneBotConnection] {
        let (replaced, woken) = state.withLock { state -> ([OneBotConnection], [Waiter]) in
            defer { report(state.connections.count) }
            var roles = state.connections[connection.selfID, default: [:]]
            var replaced = [OneBotConnection]()
            for (role, existing) in roles where role == connection.role || role == .universal || connection.role == .universal {
                replaced.append(existing)
                roles[role] = nil
            }
            roles[connection.role] = connection
            state.connections[connection.selfID] = roles
            var woken = [Waiter]()
            if connection.role.carriesActions {
                woken = state.waiters.removeValue(forKey: connection.selfID) ?? []
            }
            return (replaced, woken)
        }
        for waiter in woken { waiter.continuation.resume(returning: connection) }
        return replaced
    }

    /// Removes `connection` if it is still the registered one for its key; `report` as in
    /// ``register(_:report:)``.
    func unregister(_ connection: OneBotConnection, report: (Int) -> Void = { _ in }) {
        state.withLock { state in
            defer { report(state.connections.count) }
            guard state.connections[connection.selfID]?[connection.role]?.generation == connection.generation else { return }
            state.connections[connection.selfID]?[connection.role] = nil
            if state.connections[connection.selfID]?.isEmpty == true { state.connections[connection.selfID] = nil }
        }
    }

    /// The connection that carries actions for `selfID` now (Universal first, then API).
    public func actionConnection(for selfID: Int64) -> OneBotConnection? {
        state.withLock { state in
            let roles = state.connections[selfID]
            return roles?[.universal] ?? roles?[.api]
        }
    }

    /// The action connection for `selfID`, waiting up to `timeout` for one to appear.
    public func waitForActionConnection(_ selfID: Int64, timeout: Duration) async -> OneBotConnection? {
        if let connection = actionConnection(for: selfID) { return connection }
        return await withTaskGroup(of: OneBotConnection?.self) { group in
            group.addTask { await self.awaitRegistration(selfID) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func awaitRegistration(_ selfID: Int64) async -> OneBotConnection? {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: OneBotConnection?? = state.withLock { state in
                    if let roles = state.connections[selfID], let connection = roles[.universal] ?? roles[.api] {
                        return .some(connection)
                    }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[selfID, default: []].append(Waiter(id: id, continuation: continuation))
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters[selfID]?.firstIndex(where: { $0.id == id }) else { return nil }
                defer { if state.waiters[selfID]?.isEmpty == true { state.waiters[selfID] = nil } }
                return state.waiters[selfID]?.remove(at: index)
            }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// The self_ids with at least one live connection.
    public var connectedBots: [Int64] {
        state.withLock { Array($0.connections.keys).sorted() }
    }

    /// Every live connection.
    var allConnections: [OneBotConnection] {
        state.withLock { $0.connections.values.flatMap(\.values) }
    }

    /// Every live connection, by self_id, then role (for the admin API).
    public var connections: [OneBotConnection] {
        allConnections.sorted { ($0.selfID, $0.role.rawValue) < ($1.selfID, $1.role.rawValue) }
    }
}
