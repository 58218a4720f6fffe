// SPDX-License-Identifier: Apache-2.0
import Logging

/// A shared cache that never fails its caller: each operation goes to `primary` (Redis) and, when
/// that throws (down, restarting, slower than its timeout), to `fallback` (in process).
///
/// Redis' client answers at once while it is down, so the fallback costs no waiting; the client
/// logs each change between up and down once, and this type counts the operations that fell back.
public struct FailOpenCache: Cache {
    public let primary: any Cache
    public let fallback: any Cache
    private let metrics: HubMetrics
    private let logger: Logger

    public init(primary: any Cache, fallback: any Cache, metrics: HubMetrics = .disabled, logger: Logger) {
        self.primary = primary
        self.fallback = fallback
        self.metrics = metrics
        self.logger = logger
    }

    public var isShared: Bool { primary.isShared }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await either("get") { try await $0.get(key) }
    }

    public func set(_ key: String, to value: [UInt8], ttl: Duration) async throws {
        try await either("set") { try await $0.set(key, to: value, ttl: ttl) }
    }

    public func insertIfAbsent(_ key: String, ttl: Duration) async throws -> Bool {
        try await either("insert") { try await $0.insertIfAbsent(key, ttl: ttl) }
    }

    public func delete(_ key: String) async throws {
        try await either("delete") { try await $0.delete(key) }
    }

    public func admit(_ rules: [RateLimitRule], noticeKey: String) async throws -> RateLimitVerdict {
        try await either("admit") { try await $0.admit(rules, noticeKey: noticeKey) }
    }

    private func either<T>(_ operation: String, _ body: (any Cache) async throws -> T) async throws -> T {
        do {
            return try await body(primary)
        } catch {
            metrics.cacheFallback(operation: operation)
            logger.debug("cache fell back to the in-process store", metadata: ["hub.cache.op": "\(operation)", "error": "\(error)"])
            return try await body(fallback)
        }
    }
}
