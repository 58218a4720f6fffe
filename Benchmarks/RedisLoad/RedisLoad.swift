// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Engine
import Foundation
import Logging

/// `RedisLoad`: measures the hub's Redis client against a running server (to compare with
/// `redis-benchmark` on the same server) and the latency of an engine cache hit.
@main
struct RedisLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks for the hub's Redis client and caches.", subcommands: [ClientCommand.self, CacheHitCommand.self])
}

/// Runs `body` with a connected client, then stops it.
func withClient<T: Sendable>(
    url: String, poolSize: Int, _ body: @escaping @Sendable (RedisClient) async throws -> T
) async throws -> T {
    var configuration = try RedisConfiguration(url: url)
    configuration.poolSize = poolSize
    configuration.commandTimeout = .seconds(10)
    var logger = Logger(label: "redis-load")
    logger.logLevel = .warning
    let client = RedisClient(configuration: configuration, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await client.run()
            return nil
        }
        group.addTask {
            for _ in 0..<500 where !client.isUp { try await Task.sleep(for: .milliseconds(10)) }
            return try await body(client)
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let result { return result }
        }
        throw CancellationError()
    }
}

/// `RedisLoad client`: SET and GET, half each, from concurrent callers, like
/// `redis-benchmark -t set,get -c <clients> -P <pipeline>`.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client", abstract: "Round trips per second through RedisClient.")

    @Option(help: "Redis URL.") var url: String
    @Option(help: "Concurrent callers.") var clients = 50
    @Option(help: "Commands in all (SET and GET alternate).") var requests = 200_000
    @Option(help: "Commands per pipeline (1: one awaited command at a time per caller).") var pipeline = 1
    @Option(help: "Connections in the client's pool.") var pool = 2
    @Option(help: "Value size in bytes (redis-benchmark's -d; default 3).") var size = 3

    func run() async throws {
        let (clients, requests, pipeline, size) = (clients, requests, max(1, pipeline), size)
        let perClient = requests / clients / pipeline
        let elapsed = try await withClient(url: url, poolSize: pool) { redis in
            // Warm up: every connection, every code path.
            let warmUp = RedisCommand("SET", "key:__rand_int__", .bytes(Array(repeating: UInt8(ascii: "x"), count: size)))
            for _ in 0..<1000 { try await redis.send(warmUp) }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        // Built once per caller, as redis-benchmark formats its commands once:
                        // what is measured is the client, which encodes them on every call. Each
                        // caller has its own (no reference count shared by every thread).
                        let value = RedisArgument.bytes(Array(repeating: UInt8(ascii: "x"), count: size))
                        let (set, get) = (RedisCommand("SET", "key:__rand_int__", value), RedisCommand("GET", "key:__rand_int__"))
                        let commands = (0..<pipeline).map { $0 % 2 == 0 ? set : get }
                        for round in 0..<perClient {
                            if pipeline == 1 {
                                _ = try await redis.send((client + round) % 2 == 0 ? set : get)
                            } else {
                                _ = try await redis.pipeline(commands)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return ContinuousClock.now - start
        }
        let done = perClient * clients * pipeline
        let seconds = Double(elapsed.nanoseconds) / 1e9
        let rate = Double(done) / seconds
        print(String(format: "client: %d commands, %d callers, pipeline %d, pool %d: %.0f ops/s (%.2f s)", done, clients, pipeline, pool, rate, seconds))
        print(#"{"kind":"client","pipeline":\#(pipeline),"clients":\#(clients),"pool":\#(pool),"ops_per_second":\#(Int(rate))}"#)
    }
}

/// `RedisLoad cache-hit`: the latency of a response-cache hit, in process and through Redis.
struct CacheHitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cache-hit", abstract: "Latency of an engine cache hit.")

    @Option(help: "Redis URL (omit to measure the in-process cache only).") var url: String?
    @Option(help: "Lookups to time.") var samples = 20_000

    func run() async throws {
        let request = ChatRequest(
            model: "bench-model",
            messages: [
                ChatMessage(role: .system, content: "You are a helpful assistant."),
                ChatMessage(role: .user, content: "What is the capital of France? Please answer in one short sentence."),
            ])
        let answer = ChatCompletion(content: "The capital of France is Paris.", model: "bench-model", finishReason: "stop")
        try await measure("in-process", ResponseCache(cache: InProcessCache(), ttl: .seconds(600)), request, answer)
        if let url {
            try await withClient(url: url, poolSize: 2) { redis in
                let cache = FailOpenCache(primary: RedisCache(client: redis, prefix: "bench:"), fallback: InProcessCache(), logger: Logger(label: "bench"))
                try await measure("redis", ResponseCache(cache: cache, ttl: .seconds(600)), request, answer)
            }
        }
    }

    private func measure(_ label: String, _ cache: ResponseCache, _ request: ChatRequest, _ answer: ChatCompletion) async throws {
        // A hit as the engine makes it: the key computed from the request, then the lookup.
        await cache.store(answer, under: ResponseCache.key(for: request))
        for _ in 0..<1000 { _ = await cache.lookup(ResponseCache.key(for: request)) }
        var nanoseconds = [Int64]()
        nanoseconds.reserveCapacity(samples)
        for _ in 0..<samples {
            let start = ContinuousClock.now
            guard await cache.lookup(ResponseCache.key(for: request)) != nil else { throw ValidationError("\(label): the cached answer was not found") }
            nanoseconds.append((ContinuousClock.now - start).nanoseconds)
        }
        nanoseconds.sort()
        func percentile(_ p: Double) -> Double { Double(nanoseconds[min(nanoseconds.count - 1, Int(Double(nanoseconds.count) * p))]) / 1000 }
        print(String(format: "cache hit (%@): p50 %.1f µs, p99 %.1f µs over %d lookups", label, percentile(0.5), percentile(0.99), samples))
        print(#"{"kind":"cache-hit","cache":"\#(label)","p50_us":\#(percentile(0.5)),"p99_us":\#(percentile(0.99))}"#)
    }
}
