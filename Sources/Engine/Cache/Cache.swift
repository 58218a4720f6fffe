// SPDX-License-Identifier: Apache-2.0

/// Short-lived shared state: cached values, "seen" markers with an expiry, and rate-limit
/// counters. ``RedisCache`` shares it between hub processes; ``InProcessCache`` keeps it in this
/// process (the default, and the fallback while Redis is down, see ``FailOpenCache``).
///
/// ```swift
/// let first = try await cache.insertIfAbsent("dedupe:qq:42:msg:7", ttl: .seconds(300))
/// let verdict = try await cache.admit([RateLimitRule(key: "rate:user:1", count: 30, period: .seconds(60))],
///                                     noticeKey: "notice:user:1")
/// ```
public protocol Cache: Sendable {
    /// Whether other hub processes see the same state (Redis) or only this one (in process).
    var isShared: Bool { get }
    func get(_ key: String) async throws -> [UInt8]?
    func set(_ key: String, to value: [UInt8], ttl: Duration) async throws
    /// Stores a marker unless the key exists; true when it was stored (the first to ask).
    func insertIfAbsent(_ key: String, ttl: Duration) async throws -> Bool
    func delete(_ key: String) async throws
    /// Checks every rule and counts the request against all of them only if all allow it (GCRA:
    /// `count` requests at once, then one every `period / count`). When refused, the verdict says
    /// whether to tell the user: once per `period` of the first rule, tracked under `noticeKey`.
    func admit(_ rules: [RateLimitRule], noticeKey: String) async throws -> RateLimitVerdict
}

/// A rate: at most ``count`` per ``period``.
public struct Rate: Sendable, Hashable, CustomStringConvertible {
    public var count: Int
    public var period: Duration

    public init(count: Int, period: Duration) {
        self.count = max(1, count)
        self.period = period
    }

    public var description: String { "\(count)/\(period)" }
}

/// At most ``count`` requests per ``period`` under ``key``.
public struct RateLimitRule: Sendable, Hashable {
    public var key: String
    public var count: Int
    public var period: Duration

    public init(key: String, count: Int, period: Duration) {
        self.key = key
        self.count = max(1, count)
        self.period = period
    }

    /// Milliseconds between requests at the steady rate.
    var intervalMilliseconds: Int64 { max(1, (period.milliseconds + Int64(count) - 1) / Int64(count)) }
    /// How far ahead of now the schedule may run: `count - 1` requests in a burst.
    var toleranceMilliseconds: Int64 { intervalMilliseconds * Int64(count - 1) }
}

/// What ``Cache/admit(_:noticeKey:)`` decided.
public struct RateLimitVerdict: Sendable, Hashable {
    public var allowed: Bool
    /// How long until a request would be allowed (zero when allowed).
    public var retryAfter: Duration
    /// Refused, and the user has not been told in this period: send one short "slow down".
    public var shouldNotify: Bool

    public static let allowed = RateLimitVerdict(allowed: true, retryAfter: .zero, shouldNotify: false)

    public init(allowed: Bool, retryAfter: Duration, shouldNotify: Bool) {
        self.allowed = allowed
        self.retryAfter = retryAfter
        self.shouldNotify = shouldNotify
    }
}

extension Duration {
    /// Whole milliseconds, rounded up (so a positive duration is never 0 ms).
    public var milliseconds: Int64 {
        let nanoseconds = self.nanoseconds
        return nanoseconds <= 0 ? 0 : (nanoseconds + 999_999) / 1_000_000
    }

    /// Whole seconds, rounded up and at least 1: what `Retry-After` and "wait N s" say.
    public var retryAfterSeconds: Int {
        max(1, Int((Double(milliseconds) / 1000).rounded(.up)))
    }
}
