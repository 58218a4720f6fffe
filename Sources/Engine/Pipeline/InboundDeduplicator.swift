// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import Synchronization

/// Remembers recent event keys so that one message is handled once, however often it arrives
/// (go-cqhttp's HTTP POST retries, two live connections of one bot, offline replays).
///
/// Keys are kept per bot for `window` seconds or up to `capacity` keys, whichever is reached first.
public final class InboundDeduplicator: Sendable {
    private struct Bucket {
        var order = CircularBuffer<(key: String, at: Double)>()
        var keys = Set<String>()

        mutating func dropOldest() {
            keys.remove(order.removeFirst().key)
        }
    }

    private let window: Double
    private let capacity: Int
    private let buckets = Mutex([String: Bucket]())

    public init(window: Double = 300, capacity: Int = 4096) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// Records `key` for `bot`; false when it was seen within the window (a duplicate).
    public func firstSighting(_ key: String, bot: String, at now: Double = Date().timeIntervalSince1970) -> Bool {
        buckets.withLock { buckets in
            // Changed in place: copying a bucket of thousands of keys per event under the lock is costly.
            Self.record(key, at: now, in: &buckets[bot, default: Bucket()], window: window, capacity: capacity)
        }
    }

    private static func record(_ key: String, at now: Double, in bucket: inout Bucket, window: Double, capacity: Int) -> Bool {
        while let oldest = bucket.order.first, oldest.at < now - window { bucket.dropOldest() }
        // Check for a duplicate before making room: a key still held must not be evicted by its own repeat.
        guard !bucket.keys.contains(key) else { return false }
        while bucket.order.count >= capacity { bucket.dropOldest() }
        bucket.keys.insert(key)
        bucket.order.append((key, now))
        return true
    }
}
