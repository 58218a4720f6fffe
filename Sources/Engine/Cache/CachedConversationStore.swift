// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import Synchronization

/// A conversation store with an in-process cache of recent history in front of another store.
///
/// The underlying store stays the source of truth: writes go to it first and the cache is updated
/// only after they succeed. A cached session answers ``snapshot(_:limit:)`` for any `limit` up to
/// the depth it was loaded with, so a busy chat reads SQLite once and then never again while it stays
/// cached. The cache is bounded by session count; the sessions cached longest are evicted first.
///
/// Two turns of one session finishing at the same moment may reach the cache in the other order
/// than they reached SQLite; the next reload (eviction, restart, settings change) corrects it.
public final class CachedConversationStore: ConversationStore {
    private struct Entry {
        var snapshot: SessionSnapshot
        /// How many messages were asked for when it was loaded; the history holds the newest ones.
        var depth: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order = CircularBuffer<String>()
    }

    private let base: any ConversationStore
    private let capacity: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - base: the store of record.
    ///   - capacity: most sessions kept.
    public init(base: any ConversationStore, capacity: Int = 2048) {
        self.base = base
        self.capacity = max(1, capacity)
    }

    public func snapshot(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot {
        let id = key.description
        if let cached = state.withLock({ state -> SessionSnapshot? in
            guard let entry = state.entries[id], entry.depth >= limit else { return nil }
            return entry.snapshot
        }) {
            return SessionSnapshot(settings: cached.settings, history: Array(cached.history.suffix(max(0, limit))))
        }
        let loaded = try await base.snapshot(key, limit: limit)
        store(Entry(snapshot: loaded, depth: limit), for: id)
        return loaded
    }

    @discardableResult
    public func append(_ messages: [StoredMessage], to key: SessionKey, answering: InboxReply?) async throws -> [StoredMessage] {
        let stored = try await base.append(messages, to: key, answering: answering)
        let id = key.description
        state.withLock { state in
            guard var entry = state.entries[id] else { return }
            entry.snapshot.history.append(contentsOf: stored)
            if entry.snapshot.history.count > entry.depth {
                entry.snapshot.history.removeFirst(entry.snapshot.history.count - entry.depth)
            }
            state.entries[id] = entry
        }
        return stored
    }

    public func reset(_ key: SessionKey) async throws {
        try await base.reset(key)
        let id = key.description
        state.withLock { state in
            state.entries[id]?.snapshot.history.removeAll()
        }
    }

    public func updateSettings(_ key: SessionKey, _ update: @escaping @Sendable (inout SessionSettings) -> Void) async throws {
        try await base.updateSettings(key, update)
        let id = key.description
        state.withLock { state in
            if var entry = state.entries[id] {
                update(&entry.snapshot.settings)
                state.entries[id] = entry
            }
        }
    }

    public func inboundKeys(since date: Date) async throws -> [(key: String, receivedAt: Date)] {
        try await base.inboundKeys(since: date)
    }

    public func isHealthy() async -> Bool {
        await base.isHealthy()
    }

    /// Sessions cached now.
    public var cachedSessions: Int { state.withLock { $0.entries.count } }

    private func store(_ entry: Entry, for id: String) {
        state.withLock { state in
            if state.entries.updateValue(entry, forKey: id) == nil {
                state.order.append(id)
            }
            while state.entries.count > capacity, let oldest = state.order.first {
                state.order.removeFirst()
                state.entries[oldest] = nil
            }
        }
    }
}
