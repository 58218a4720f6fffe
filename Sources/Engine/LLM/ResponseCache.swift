// SPDX-License-Identifier: Apache-2.0
import Crypto

/// Complete LLM answers kept for a while, keyed by an exact match on the request: model, every
/// message (role and text), and the sampling parameters.
///
/// Only finished answers are stored, never a failure or a partial stream. The ``Cache`` behind it
/// bounds it: in process by entry count (`llm.caching.max_size`, least recently used first), in
/// Redis by the TTL and the server's `maxmemory` policy.
public struct ResponseCache: Sendable {
    public let cache: any Cache
    public let ttl: Duration

    public init(cache: any Cache, ttl: Duration) {
        self.cache = cache
        self.ttl = ttl
    }

    /// `llm:` and the SHA-256 of the request's fields, each written with its length (so no two
    /// requests share an input). The fields are gathered into one buffer and hashed with one call:
    /// hashing them directly rather than a JSON rendering halved the key's cost per turn, and one
    /// call instead of three per message halved it again (the digest's per-call overhead exceeded
    /// the hashing; `perf`, 2026-12-05).
    public static func key(for request: ChatRequest) -> String {
        var input = KeyInput()
        input.reserve(request.messages.reduce(64 + request.model.utf8.count) { $0 + 24 + $1.content.utf8.count })
        input.add(2 as UInt64)  // the key format's version
        input.add(request.model)
        input.add(UInt64(request.messages.count))
        for message in request.messages {
            input.add(message.role.rawValue)
            input.add(message.content)
        }
        input.add(request.maxTokens.map { UInt64(bitPattern: Int64($0)) })
        input.add(request.temperature.map(\.bitPattern))
        input.add(request.topP.map(\.bitPattern))
        return "llm:" + Hex.string(SHA256.hash(data: input.bytes))
    }

    /// The answer cached under `key` (from ``key(for:)``, computed once per request by the caller),
    /// or nil (also when the cache cannot be read).
    public func lookup(_ key: String) async -> ChatCompletion? {
        guard let bytes = try? await cache.get(key), let value = try? JSONValue(parsing: bytes),
            let content = value["content"]?.stringValue, let model = value["model"]?.stringValue
        else { return nil }
        var usage: TokenUsage?
        if let prompt = value["prompt_tokens"]?.int64Value, let completion = value["completion_tokens"]?.int64Value {
            usage = TokenUsage(promptTokens: Int(prompt), completionTokens: Int(completion))
        }
        return ChatCompletion(content: content, model: model, finishReason: value["finish_reason"]?.stringValue, usage: usage)
    }

    /// Keeps a finished answer under `key` for ``ttl``.
    public func store(_ completion: ChatCompletion, under key: String) async {
        var fields: [String: JSONValue] = ["content": .string(completion.content), "model": .string(completion.model)]
        if let reason = completion.finishReason { fields["finish_reason"] = .string(reason) }
        if let usage = completion.usage {
            fields["prompt_tokens"] = .int(Int64(usage.promptTokens))
            fields["completion_tokens"] = .int(Int64(usage.completionTokens))
        }
        var bytes = [UInt8]()
        JSONValue.object(fields).write(into: &bytes)
        try? await cache.set(key, to: bytes, ttl: ttl)
    }

    /// `request`'s entry in `cache`: its key computed once, for a lookup now and a store once the
    /// answer is finished. With no cache (caching off) the entry finds nothing and keeps nothing.
    public static func entry(for request: ChatRequest, in cache: ResponseCache?) -> Entry {
        Entry(cache: cache, key: cache.map { _ in key(for: request) } ?? "")
    }

    /// One request's place in a ``ResponseCache``; see ``entry(for:in:)``.
    public struct Entry: Sendable {
        let cache: ResponseCache?
        let key: String

        /// Whether there is a cache behind this entry.
        public var isEnabled: Bool { cache != nil }

        /// The cached answer, or nil.
        public func lookup() async -> ChatCompletion? {
            await cache?.lookup(key)
        }

        /// Keeps a finished answer; an empty one is not worth keeping.
        public func keep(_ completion: ChatCompletion) async {
            guard let cache, !completion.content.isEmpty else { return }
            await cache.store(completion, under: key)
        }
    }
}

/// The bytes a response cache key is the digest of.
private struct KeyInput {
    var bytes = [UInt8]()

    mutating func reserve(_ count: Int) {
        bytes.reserveCapacity(count)
    }

    mutating func add(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func add(_ value: UInt64?) {
        add(value == nil ? 0 as UInt64 : 1)
        if let value { add(value) }
    }

    mutating func add(_ text: String) {
        add(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }
}
