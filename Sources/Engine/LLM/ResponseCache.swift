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

    /// `llm:` and the SHA-256 of the request's fields, each fed to the hash with its length (so no
    /// two requests share an input). Hashing the fields directly rather than a JSON rendering of
    /// them halved the key's cost per turn, which grows with the history (`perf`, 2026-12-05).
    public static func key(for request: ChatRequest) -> String {
        var hash = SHA256()
        hash.feed(2 as UInt64)  // the key format's version
        hash.feed(request.model)
        hash.feed(UInt64(request.messages.count))
        for message in request.messages {
            hash.feed(message.role.rawValue)
            hash.feed(message.content)
        }
        hash.feed(request.maxTokens.map { UInt64(bitPattern: Int64($0)) })
        hash.feed(request.temperature.map(\.bitPattern))
        hash.feed(request.topP.map(\.bitPattern))
        return "llm:" + Hex.string(hash.finalize())
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

extension SHA256 {
    fileprivate mutating func feed(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { update(bufferPointer: $0) }
    }

    fileprivate mutating func feed(_ value: UInt64?) {
        feed(value == nil ? 0 as UInt64 : 1)
        if let value { feed(value) }
    }

    fileprivate mutating func feed(_ text: String) {
        feed(UInt64(text.utf8.count))
        let fed = text.utf8.withContiguousStorageIfAvailable { update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if fed == nil { update(data: Array(text.utf8)) }
    }
}
