// SPDX-License-Identifier: Apache-2.0

/// The ``Cache`` in Redis, shared by every hub process that uses the same server and key prefix.
///
/// Values are plain strings with a `PX` expiry; markers are `SET NX PX`; rate limits run as one
/// Lua script on the server's clock, so all processes agree on time and no two can both take the
/// last slot. Size is bounded by the expiries and by Redis' own `maxmemory` eviction (every key
/// written here has an expiry, so `volatile-lru` applies to all of them).
public struct RedisCache: Cache {
    public let client: RedisClient
    /// Put before every key, e.g. `hub:`.
    public let prefix: String

    public init(client: RedisClient, prefix: String = "hub:") {
        self.client = client
        self.prefix = prefix
    }

    public var isShared: Bool { true }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await client.send(RedisCommand("GET", RedisArgument(prefix + key))).bytes
    }

    public func set(_ key: String, to value: [UInt8], ttl: Duration) async throws {
        try await client.send(RedisCommand("SET", RedisArgument(prefix + key), .bytes(value), "PX", RedisArgument(max(1, ttl.milliseconds))))
    }

    public func insertIfAbsent(_ key: String, ttl: Duration) async throws -> Bool {
        let reply = try await client.send(RedisCommand("SET", RedisArgument(prefix + key), "1", "NX", "PX", RedisArgument(max(1, ttl.milliseconds))))
        return !reply.isNull
    }

    public func delete(_ key: String) async throws {
        try await client.send(RedisCommand("DEL", RedisArgument(prefix + key)))
    }

    public func admit(_ rules: [RateLimitRule], noticeKey: String) async throws -> RateLimitVerdict {
        guard let first = rules.first else { return .allowed }
        var arguments = [RedisArgument(rules.count)]
        for rule in rules {
            arguments.append(RedisArgument(rule.intervalMilliseconds))
            arguments.append(RedisArgument(rule.toleranceMilliseconds))
        }
        arguments.append(RedisArgument(max(1, first.period.milliseconds)))
        let reply = try await client.run(Self.admitScript, keys: rules.map { prefix + $0.key } + [prefix + noticeKey], arguments: arguments)
        guard let values = reply.array, values.count == 3, let allowed = values[0].integer, let wait = values[1].integer,
            let notify = values[2].integer
        else { throw RedisError.protocolError("unexpected rate-limit reply \(reply)") }
        return RateLimitVerdict(allowed: allowed == 1, retryAfter: .milliseconds(wait), shouldNotify: notify == 1)
    }

    /// GCRA over several keys at once. KEYS: one per rule, then the notice key. ARGV: rule count,
    /// then interval and tolerance (ms) per rule, then the notice period (ms).
    static let admitScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local n = tonumber(ARGV[1])
        local wait = 0
        local next = {}
        for i = 1, n do
          local interval = tonumber(ARGV[2 * i])
          local tolerance = tonumber(ARGV[2 * i + 1])
          local arrival = tonumber(redis.call('GET', KEYS[i]) or now)
          if arrival < now then arrival = now end
          if arrival - now > tolerance then
            wait = math.max(wait, arrival - now - tolerance)
          end
          next[i] = arrival + interval
        end
        if wait > 0 then
          local notify = redis.call('SET', KEYS[n + 1], '1', 'PX', ARGV[2 * n + 2], 'NX')
          return {0, wait, notify and 1 or 0}
        end
        for i = 1, n do
          redis.call('SET', KEYS[i], string.format('%d', next[i]), 'PX', string.format('%d', math.max(1, next[i] - now)))
        end
        return {1, 0, 0}
        """)
}
