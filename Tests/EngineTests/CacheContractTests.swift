// SPDX-License-Identifier: Apache-2.0
import Foundation
import HubTestSupport
import Logging
import Testing

@testable import Engine

/// The same behaviour from every ``Cache``: in process and in a real Redis.
@Suite(.serialized)
struct CacheContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case inProcess, redis
        var testDescription: String { rawValue }
    }

    /// Runs `body` with a fresh cache of `kind` (Redis keys under a fresh prefix).
    private func withCache(_ kind: Kind, _ body: @escaping @Sendable (any Cache) async throws -> Void) async throws {
        switch kind {
        case .inProcess:
            try await body(InProcessCache())
        case .redis:
            var configuration = try RedisConfiguration(url: try await RedisServer.sharedURL())
            // The first connection is made while the whole suite starts at once on two cores.
            configuration.connectTimeout = .seconds(10)
            let client = RedisClient(configuration: configuration, logger: Logger(label: "test"))
            try await withTimeLimit(.seconds(30)) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await client.run() }
                    defer { group.cancelAll() }
                    try await body(RedisCache(client: client, prefix: "test:\(UUID().uuidString):"))
                }
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func valuesExpire(_ kind: Kind) async throws {
        try await withCache(kind) { (cache: any Cache) async throws in
            #expect(try await cache.get("a") == nil)
            // Expiries of a second: wide enough for a busy machine running the whole suite.
            try await cache.set("a", to: [1, 2, 0, 13, 10], ttl: .seconds(1))
            #expect(try await cache.get("a") == [1, 2, 0, 13, 10])
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await cache.get("a") == nil)
            try await cache.set("b", to: [9], ttl: .seconds(60))
            try await cache.delete("b")
            #expect(try await cache.get("b") == nil)
        }
    }

    @Test(arguments: Kind.allCases)
    func insertIfAbsentIsFirstComeOnlyUntilExpiry(_ kind: Kind) async throws {
        try await withCache(kind) { (cache: any Cache) async throws in
            #expect(try await cache.insertIfAbsent("m", ttl: .seconds(1)))
            #expect(try await !cache.insertIfAbsent("m", ttl: .seconds(1)))
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await cache.insertIfAbsent("m", ttl: .seconds(5)))
        }
    }

    @Test(arguments: Kind.allCases)
    func rateLimitAllowsABurstThenRefusesAndNotifiesOnce(_ kind: Kind) async throws {
        try await withCache(kind) { (cache: any Cache) async throws in
            // A slot every second: wide enough margins for a busy machine running the suite.
            let rule = RateLimitRule(key: "rate:u", count: 3, period: .seconds(3))
            for _ in 0..<3 { #expect(try await cache.admit([rule], noticeKey: "notice:u") == .allowed) }
            let refused = try await cache.admit([rule], noticeKey: "notice:u")
            #expect(!refused.allowed)
            #expect(refused.shouldNotify)
            #expect(refused.retryAfter > .zero && refused.retryAfter <= .seconds(1))
            let again = try await cache.admit([rule], noticeKey: "notice:u")
            #expect(!again.allowed && !again.shouldNotify)
            // One slot comes back after period / count.
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await cache.admit([rule], noticeKey: "notice:u").allowed)
            #expect(try await !cache.admit([rule], noticeKey: "notice:u").allowed)
        }
    }

    @Test(arguments: Kind.allCases)
    func aRefusalCountsAgainstNoRule(_ kind: Kind) async throws {
        try await withCache(kind) { (cache: any Cache) async throws in
            let user = RateLimitRule(key: "rate:user", count: 5, period: .seconds(60))
            let group = RateLimitRule(key: "rate:group", count: 2, period: .seconds(60))
            #expect(try await cache.admit([user, group], noticeKey: "n").allowed)
            #expect(try await cache.admit([user, group], noticeKey: "n").allowed)
            #expect(try await !cache.admit([user, group], noticeKey: "n").allowed)  // group full
            // The refused request did not take a slot of the user's own limit.
            for _ in 0..<3 { #expect(try await cache.admit([user], noticeKey: "n").allowed) }
            #expect(try await !cache.admit([user], noticeKey: "n").allowed)
        }
    }

    @Test(arguments: Kind.allCases)
    func concurrentAdmissionsNeverExceedTheLimit(_ kind: Kind) async throws {
        try await withCache(kind) { (cache: any Cache) async throws in
            let rule = RateLimitRule(key: "rate:c", count: 10, period: .seconds(60))
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 { group.addTask { try await cache.admit([rule], noticeKey: "n:c").allowed } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 10)
        }
    }
}

/// The in-process cache's own promises: bounded, least recently used first, a controllable clock.
struct InProcessCacheTests {
    @Test func boundedLeastRecentlyUsedFirst() async throws {
        let cache = InProcessCache(capacity: 3)
        try await cache.set("a", to: [1], ttl: .seconds(60))
        try await cache.set("b", to: [2], ttl: .seconds(60))
        try await cache.set("c", to: [3], ttl: .seconds(60))
        _ = try await cache.get("a")  // a is now the most recent
        try await cache.set("d", to: [4], ttl: .seconds(60))
        #expect(cache.count == 3)
        #expect(try await cache.get("b") == nil)
        #expect(try await cache.get("a") == [1])
        #expect(try await cache.get("c") == [3])
        #expect(try await cache.get("d") == [4])
    }

    @Test func clockDrivesExpiryAndRates() async throws {
        let clock = Locked<Int64>(1_000_000)
        let cache = InProcessCache(capacity: 10) { clock.value }
        try await cache.set("k", to: [1], ttl: .seconds(10))
        clock.withLock { $0 += 9_999 }
        #expect(try await cache.get("k") == [1])
        clock.withLock { $0 += 1 }
        #expect(try await cache.get("k") == nil)

        let rule = RateLimitRule(key: "r", count: 30, period: .seconds(60))
        for _ in 0..<30 { #expect(try await cache.admit([rule], noticeKey: "n").allowed) }
        let refused = try await cache.admit([rule], noticeKey: "n")
        #expect(!refused.allowed && refused.shouldNotify && refused.retryAfter == .seconds(2))
        clock.withLock { $0 += 2_000 }
        #expect(try await cache.admit([rule], noticeKey: "n").allowed)
        let later = try await cache.admit([rule], noticeKey: "n")
        #expect(!later.allowed && !later.shouldNotify)  // told once per period
        clock.withLock { $0 += 60_000 }
        for _ in 0..<30 { #expect(try await cache.admit([rule], noticeKey: "n").allowed) }
        #expect(try await cache.admit([rule], noticeKey: "n").shouldNotify)
    }

    @Test func lruDictionaryKeepsItsLinksStraight() {
        var lru = LRUDictionary<Int, Int>(capacity: 50)
        var reference = [Int]()  // keys, least recent first
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<5_000 {
            let key = Int.random(in: 0..<80, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                let evicted = lru.set(key, key * 2)
                if let index = reference.firstIndex(of: key) {
                    reference.remove(at: index)
                } else if reference.count == 50 {
                    #expect(evicted?.key == reference.removeFirst())
                }
                reference.append(key)
            case 1:
                let value = lru.get(key)
                #expect(value == (reference.contains(key) ? key * 2 : nil))
                if let index = reference.firstIndex(of: key) { reference.append(reference.remove(at: index)) }
            default:
                #expect((lru.remove(key) != nil) == reference.contains(key))
                reference.removeAll { $0 == key }
            }
            #expect(lru.count == reference.count)
            #expect(lru.leastRecent?.key == reference.first)
        }
    }
}
