// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import Synchronization

/// A conversation store with the recent history of each session cached in Redis, shared by every
/// hub process, in front of the store of record (SQLite).
///
/// Per session: `sess:<key>` (a hash: settings, depth, id of the newest message), `hist:<key>` (a
/// list, newest last, at most `depth` messages) and `sgen:<key>` (a counter bumped by every write).
///
/// Correct with several processes and with Redis coming and going:
/// - A miss loads from the store and fills the cache only if no write happened meanwhile (the
///   counter is unchanged), so a slow reader never installs an old history.
/// - An append pushes only messages newer than the cached newest id; a message that would land out
///   of order (two writers at once) drops the entry instead, and the next read reloads it.
/// - `/reset` and settings changes drop the entry.
/// - While Redis is unreachable, reads go to the store; writes that could not reach Redis are
///   remembered and their entries dropped as soon as it is back, before Redis is read again.
public final class RedisHistoryStore: ConversationStore {
    private struct Dirty {
        var keys = Set<String>()
        /// More sessions changed than ``maxDirty`` while Redis was away: drop every entry.
        var overflowed = false
    }

    private let base: any ConversationStore
    private let client: RedisClient
    private let prefix: String
    private let ttl: Duration
    private let maxDirty: Int
    private let dirty = Mutex(Dirty())
    private let logger: Logger

    /// - Parameters:
    ///   - ttl: how long an untouched session stays cached.
    public init(base: any ConversationStore, client: RedisClient, prefix: String = "hub:", ttl: Duration = .seconds(1800),
                maxDirty: Int = 65_536, logger: Logger) {
        self.base = base
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self.maxDirty = maxDirty
        self.logger = logger
    }

    private func keys(_ key: SessionKey) -> [String] {
        keys(id: key.description)
    }

    /// `sess:`, `hist:` and `sgen:` of a session, as the scripts take them.
    private func keys(id: String) -> [String] {
        [prefix + "sess:" + id, prefix + "hist:" + id, prefix + "sgen:" + id]
    }

    // MARK: Reads

    public func snapshot(_ key: SessionKey, limit: Int) async throws -> SessionSnapshot {
        guard client.isUp, await flushDirty() else { return try await base.snapshot(key, limit: limit) }
        let names = keys(key)
        let generation: RESPValue
        do {
            let replies = try await client.pipeline([
                RedisCommand("HMGET", RedisArgument(names[0]), "settings", "depth"),
                RedisCommand("LRANGE", RedisArgument(names[1]), RedisArgument(-max(1, limit)), -1),
                RedisCommand("GET", RedisArgument(names[2])),
            ])
            if let fields = replies[0].array, fields.count == 2, let settings = fields[0].bytes, let depth = fields[1].integer,
                depth >= limit, let listed = replies[1].array
            {
                let history = limit == 0 ? [] : listed.compactMap { $0.bytes.flatMap(Self.decodeMessage) }
                return SessionSnapshot(settings: Self.decodeSettings(settings), history: history)
            }
            generation = replies[2]
        } catch {
            logger.debug("history cache read failed; reading the store", metadata: ["error": "\(error)"])
            return try await base.snapshot(key, limit: limit)
        }
        let loaded = try await base.snapshot(key, limit: limit)
        var arguments: [RedisArgument] = [
            RedisArgument(generation.string ?? "0"), .bytes(Self.encodeSettings(loaded.settings)), RedisArgument(limit),
            RedisArgument(loaded.history.last?.id ?? 0), RedisArgument(ttl.milliseconds),
        ]
        arguments += loaded.history.map { .bytes(Self.encodeMessage($0)) }
        do {
            try await client.run(Self.fillScript, keys: names, arguments: arguments)
        } catch {
            logger.debug("history cache fill failed", metadata: ["error": "\(error)"])
        }
        return loaded
    }

    // MARK: Writes

    @discardableResult
    public func append(_ messages: [StoredMessage], to key: SessionKey, answering: InboxReply?) async throws -> [StoredMessage] {
        let stored = try await base.append(messages, to: key, answering: answering)
        guard let first = stored.first?.id, let last = stored.last?.id else { return stored }
        let arguments: [RedisArgument] =
            [RedisArgument(ttl.milliseconds), RedisArgument(first), RedisArgument(last)] + stored.map { .bytes(Self.encodeMessage($0)) }
        await update(key) { names in try await self.client.run(Self.appendScript, keys: names, arguments: arguments) }
        return stored
    }

    public func reset(_ key: SessionKey) async throws {
        try await base.reset(key)
        await update(key) { names in try await self.invalidate(names) }
    }

    public func updateSettings(_ key: SessionKey, _ update: @escaping @Sendable (inout SessionSettings) -> Void) async throws {
        try await base.updateSettings(key, update)
        await self.update(key) { names in try await self.invalidate(names) }
    }

    public func inboundKeys(since date: Date) async throws -> [(key: String, receivedAt: Date)] {
        try await base.inboundKeys(since: date)
    }

    public func isHealthy() async -> Bool {
        await base.isHealthy()
    }

    /// Sessions whose cache entry must be dropped once Redis is back.
    public var pendingInvalidations: Int { dirty.withLock { $0.keys.count } }

    /// Runs a cache change after a write to the store; when Redis cannot take it, remembers the
    /// session so that its entry is dropped before Redis is read again.
    private func update(_ key: SessionKey, _ change: @Sendable ([String]) async throws -> Void) async {
        do {
            guard client.isUp else { throw RedisError.unavailable("down") }
            try await change(keys(key))
        } catch {
            let id = key.description
            dirty.withLock { dirty in
                if dirty.keys.count >= maxDirty {
                    dirty.overflowed = true
                    dirty.keys.removeAll()
                } else if !dirty.overflowed {
                    dirty.keys.insert(id)
                }
            }
        }
    }

    private func invalidate(_ names: [String]) async throws {
        try await client.run(Self.invalidateScript, keys: names, arguments: [RedisArgument(ttl.milliseconds * 2)])
    }

    /// Drops the entries of sessions written while Redis was away; false while that is not possible.
    private func flushDirty() async -> Bool {
        let pending = dirty.withLock { dirty -> Dirty? in
            guard dirty.overflowed || !dirty.keys.isEmpty else { return nil }
            defer { dirty = Dirty() }
            return dirty
        }
        guard let pending else { return true }
        do {
            if pending.overflowed {
                try await dropEveryEntry()
            } else {
                let commands = pending.keys.map { id in
                    RedisCommand(
                        "EVALSHA",
                        arguments: [RedisArgument(Self.invalidateScript.sha1), 3] + keys(id: id).map { RedisArgument($0) }
                            + [RedisArgument(ttl.milliseconds * 2)])
                }
                try await client.send(RedisCommand("SCRIPT", "LOAD", RedisArgument(Self.invalidateScript.source)))
                for reply in try await client.pipeline(commands) {
                    if case .error(let message) = reply { throw RedisError.server(message) }
                }
            }
            logger.info("history cache entries written while Redis was away dropped", metadata: ["hub.sessions": "\(pending.overflowed ? "all" : "\(pending.keys.count)")"])
            return true
        } catch {
            dirty.withLock { dirty in
                dirty.overflowed = dirty.overflowed || pending.overflowed
                if !dirty.overflowed { dirty.keys.formUnion(pending.keys) }
            }
            return false
        }
    }

    private func dropEveryEntry() async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send(RedisCommand("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(prefix + "sess:*"), "COUNT", 1000))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                throw RedisError.protocolError("unexpected SCAN reply")
            }
            cursor = next
            let sessions = found.compactMap(\.string)
            if !sessions.isEmpty {
                let hist = sessions.map { prefix + "hist:" + $0.dropFirst((prefix + "sess:").count) }
                try await client.send(RedisCommand("DEL", arguments: (sessions + hist).map { RedisArgument($0) }))
            }
        } while cursor != "0"
    }

    // MARK: Scripts

    /// KEYS sess, hist, sgen. ARGV generation seen before loading, settings, depth, newest id, ttl, messages…
    static let fillScript = RedisScript(
        """
        if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1], KEYS[2])
        if #ARGV > 5 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 6)) end
        redis.call('HSET', KEYS[1], 'settings', ARGV[2], 'depth', ARGV[3], 'last', ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        redis.call('PEXPIRE', KEYS[2], ARGV[5])
        return 1
        """)

    /// KEYS sess, hist, sgen. ARGV ttl, first id, last id, messages… (each "id\\t…").
    static let appendScript = RedisScript(
        """
        redis.call('INCR', KEYS[3])
        redis.call('PEXPIRE', KEYS[3], 2 * tonumber(ARGV[1]))
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local newest = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
        local first = tonumber(ARGV[2])
        if first <= newest then
          local held = {}
          for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
            held[string.match(item, '^(%d+)')] = true
          end
          for i = 4, #ARGV do
            if not held[string.match(ARGV[i], '^(%d+)')] then
              redis.call('DEL', KEYS[1], KEYS[2])
              return 2
            end
          end
          return 1
        end
        local depth = tonumber(redis.call('HGET', KEYS[1], 'depth') or '0')
        redis.call('RPUSH', KEYS[2], unpack(ARGV, 4))
        if depth > 0 then redis.call('LTRIM', KEYS[2], -depth, -1) else redis.call('DEL', KEYS[2]) end
        redis.call('HSET', KEYS[1], 'last', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('PEXPIRE', KEYS[2], ARGV[1])
        return 3
        """)

    /// KEYS sess, hist, sgen. ARGV counter ttl.
    static let invalidateScript = RedisScript(
        """
        redis.call('INCR', KEYS[3])
        redis.call('PEXPIRE', KEYS[3], ARGV[1])
        redis.call('DEL', KEYS[1], KEYS[2])
        return 1
        """)

    // MARK: Encoding

    /// `id \t role \t created-at \t content` (content last, so it may hold tabs).
    static func encodeMessage(_ message: StoredMessage) -> [UInt8] {
        Array("\(message.id ?? 0)\t\(message.role.rawValue)\t\(message.createdAt.timeIntervalSince1970)\t".utf8) + Array(message.content.utf8)
    }

    static func decodeMessage(_ bytes: [UInt8]) -> StoredMessage? {
        let fields = bytes.split(separator: UInt8(ascii: "\t"), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let id = Int64(String(decoding: fields[0], as: UTF8.self)),
            let role = ChatMessage.Role(rawValue: String(decoding: fields[1], as: UTF8.self)),
            let created = Double(String(decoding: fields[2], as: UTF8.self))
        else { return nil }
        return StoredMessage(
            role: role, content: String(decoding: fields[3], as: UTF8.self), createdAt: Date(timeIntervalSince1970: created), id: id)
    }

    static func encodeSettings(_ settings: SessionSettings) -> [UInt8] {
        var out = [UInt8]()
        JSONValue.object([
            "model": settings.model.map(JSONValue.string) ?? .null, "persona": settings.persona.map(JSONValue.string) ?? .null,
            "voice": .bool(settings.voice),
        ])
            .write(into: &out)
        return out
    }

    static func decodeSettings(_ bytes: [UInt8]) -> SessionSettings {
        guard let value = try? JSONValue(parsing: bytes) else { return SessionSettings() }
        return SessionSettings(model: value["model"]?.stringValue, persona: value["persona"]?.stringValue, voice: value["voice"]?.boolValue ?? false)
    }
}
