// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization

/// The ``Cache`` of one process: an LRU dictionary of at most `capacity` entries, each with an
/// expiry. Expired entries are dropped when met and when they are the least recently used.
public final class InProcessCache: Cache {
    private enum Stored {
        case bytes([UInt8])
        case marker
        /// A rate limit's theoretical arrival time, in milliseconds since 1970.
        case schedule(Int64)
    }

    private struct Entry {
        var stored: Stored
        var expiresAt: Int64
    }

    private let entries: Mutex<LRUDictionary<String, Entry>>
    private let now: @Sendable () -> Int64

    /// - Parameters:
    ///   - capacity: most entries kept; the least recently used go first.
    ///   - now: milliseconds since 1970 (tests pass a clock they control).
    public init(capacity: Int = 100_000, now: @escaping @Sendable () -> Int64 = InProcessCache.wallClock) {
        entries = Mutex(LRUDictionary(capacity: capacity))
        self.now = now
    }

    @Sendable public static func wallClock() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    public var isShared: Bool { false }

    /// Entries held now (expired ones included until they are met).
    public var count: Int { entries.withLock { $0.count } }

    public func get(_ key: String) async throws -> [UInt8]? {
        let now = now()
        return entries.withLock { entries in
            guard let entry = live(key, at: now, in: &entries), case .bytes(let bytes) = entry.stored else { return nil }
            return bytes
        }
    }

    public func set(_ key: String, to value: [UInt8], ttl: Duration) async throws {
        let expiresAt = now() + ttl.milliseconds
        entries.withLock { _ = $0.set(key, Entry(stored: .bytes(value), expiresAt: expiresAt)) }
    }

    public func insertIfAbsent(_ key: String, ttl: Duration) async throws -> Bool {
        let now = now()
        return entries.withLock { entries in
            guard live(key, at: now, in: &entries) == nil else { return false }
            entries.set(key, Entry(stored: .marker, expiresAt: now + ttl.milliseconds))
            return true
        }
    }

    public func delete(_ key: String) async throws {
        _ = entries.withLock { $0.remove(key) }
    }

    public func admit(_ rules: [RateLimitRule], noticeKey: String) async throws -> RateLimitVerdict {
        let now = now()
        return entries.withLock { entries in
            var wait: Int64 = 0
            var schedules = [Int64]()
            for rule in rules {
                var arrival = now
                if let entry = live(rule.key, at: now, in: &entries), case .schedule(let stored) = entry.stored {
                    arrival = max(stored, now)
                }
                if arrival - now > rule.toleranceMilliseconds { wait = max(wait, arrival - now - rule.toleranceMilliseconds) }
                schedules.append(arrival + rule.intervalMilliseconds)
            }
            if wait > 0 {
                let notify = live(noticeKey, at: now, in: &entries) == nil
                if notify, let first = rules.first {
                    entries.set(noticeKey, Entry(stored: .marker, expiresAt: now + first.period.milliseconds))
                }
                return RateLimitVerdict(allowed: false, retryAfter: .milliseconds(wait), shouldNotify: notify)
            }
            for (rule, schedule) in zip(rules, schedules) {
                entries.set(rule.key, Entry(stored: .schedule(schedule), expiresAt: schedule))
            }
            return .allowed
        }
    }

    private func live(_ key: String, at now: Int64, in entries: inout LRUDictionary<String, Entry>) -> Entry? {
        guard let entry = entries.get(key) else { return nil }
        guard entry.expiresAt > now else {
            entries.remove(key)
            return nil
        }
        return entry
    }
}
