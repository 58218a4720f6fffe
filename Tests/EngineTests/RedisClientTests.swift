// SPDX-License-Identifier: Apache-2.0
import Foundation
import HubTestSupport
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Engine

/// The client against a real `redis-server`.
@Suite(.serialized)
struct RedisClientTests {
    private static let logger = Logger(label: "test.redis")

    /// Runs `body` with a client that is connected to `url`, then stops the client.
    private func withClient<T: Sendable>(
        _ url: String, commandTimeout: Duration = .seconds(2), poolSize: Int = 2, stalledAfter: Duration = .milliseconds(100),
        _ body: @escaping @Sendable (RedisClient) async throws -> T
    ) async throws -> T {
        var configuration = try RedisConfiguration(url: url)
        // The first connection is made while the whole suite starts at once on two cores.
        configuration.connectTimeout = .seconds(10)
        configuration.stalledAfter = stalledAfter
        configuration.commandTimeout = commandTimeout
        configuration.poolSize = poolSize
        configuration.firstBackoff = .milliseconds(20)
        configuration.longestBackoff = .milliseconds(200)
        let client = RedisClient(configuration: configuration, logger: Self.logger)
        return try await withTimeLimit(.seconds(30)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                defer { group.cancelAll() }
                return try await body(client)
            }
        }
    }

    private func key(_ name: String) -> String { "test:\(UUID().uuidString):\(name)" }

    @Test func repliesOfEveryType() async throws {
        try await withClient(try await RedisServer.sharedURL()) { redis in
            let list = key("list")
            #expect(try await redis.send(RedisCommand("PING")) == .simpleString("PONG"))
            #expect(try await redis.send(RedisCommand("SET", RedisArgument(list + "s"), "hello")) == .simpleString("OK"))
            #expect(try await redis.send(RedisCommand("GET", RedisArgument(list + "s"))) == .bulkString(Array("hello".utf8)))
            #expect(try await redis.send(RedisCommand("INCRBY", RedisArgument(list + "n"), 41)) == .integer(41))
            #expect(try await redis.send(RedisCommand("GET", RedisArgument(list + "missing"))) == .null)
            try await redis.send(RedisCommand("RPUSH", RedisArgument(list), "a", "b", "c"))
            #expect(
                try await redis.send(RedisCommand("LRANGE", RedisArgument(list), 0, -1))
                    == .array([.bulkString([97]), .bulkString([98]), .bulkString([99])]))
            #expect(try await redis.send(RedisCommand("LRANGE", RedisArgument(list + "none"), 0, -1)) == .array([]))
            let nested = try await redis.send(RedisCommand("EVAL", "return {1, {'x', 2}, false}", 0))
            #expect(nested == .array([.integer(1), .array([.bulkString([120]), .integer(2)]), .null]))
            // Empty arrays inside arrays, and arrays that close several levels at once.
            let deep = try await redis.send(RedisCommand("EVAL", "return {{}, {1, {2, {3, {}}}}, {}, 'y'}", 0))
            #expect(
                deep
                    == .array([
                        .array([]), .array([.integer(1), .array([.integer(2), .array([.integer(3), .array([])])])]), .array([]),
                        .bulkString([121]),
                    ]))
            // Error and status replies inside an array (a transaction's EXEC).
            let transaction = try await redis.pipeline([
                RedisCommand("MULTI"), RedisCommand("SET", RedisArgument(list + "t"), "v"), RedisCommand("INCR", RedisArgument(list + "t")),
                RedisCommand("EXEC"),
            ])
            #expect(transaction.last == .array([.simpleString("OK"), .error("ERR value is not an integer or out of range")]))
            await #expect(throws: RedisError.server("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ")) {
                try await redis.send(RedisCommand("NOSUCHCOMMAND"))
            }
            await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("INCR", RedisArgument(list))) }
        }
    }

    @Test func binaryValuesSurviveBothWays() async throws {
        try await withClient(try await RedisServer.sharedURL()) { redis in
            let value: [UInt8] = Array("a\r\nb".utf8) + [0, 0xFF, 0xFE, 13, 10, 36, 42, 45] + Array("\r\n".utf8)
            let binaryKey = Array(key("bin").utf8) + [0, 13, 10]
            try await redis.send(RedisCommand("SET", .bytes(binaryKey), .bytes(value)))
            #expect(try await redis.send(RedisCommand("GET", .bytes(binaryKey))) == .bulkString(value))
            #expect(try await redis.send(RedisCommand("STRLEN", .bytes(binaryKey))) == .integer(Int64(value.count)))
            try await redis.send(RedisCommand("SET", .bytes(binaryKey), .bytes([])))
            #expect(try await redis.send(RedisCommand("GET", .bytes(binaryKey))) == .bulkString([]))
        }
    }

    @Test func oneMebibyteValue() async throws {
        try await withClient(try await RedisServer.sharedURL()) { redis in
            var generator = SeededGenerator(seed: 7)
            let value = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let name = key("big")
            try await redis.send(RedisCommand("SET", RedisArgument(name), .bytes(value)))
            #expect(try await redis.send(RedisCommand("GET", RedisArgument(name))).bytes == value)
        }
    }

    @Test func pipelineOfAThousandCommandsKeepsOrderAndErrors() async throws {
        try await withClient(try await RedisServer.sharedURL()) { redis in
            let counter = key("counter")
            var commands = (0..<1000).map { _ in RedisCommand("INCR", RedisArgument(counter)) }
            commands[500] = RedisCommand("HGET", RedisArgument(counter), "field")  // WRONGTYPE, a value in the pipeline
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 1000)
            #expect(replies[0] == .integer(1))
            #expect(replies[499] == .integer(500))
            if case .error(let message) = replies[500] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("expected an error") }
            #expect(replies[501] == .integer(501))
            #expect(replies[999] == .integer(999))
        }
    }

    @Test func concurrentCommandsOnThePoolAllGetTheirOwnReplies() async throws {
        try await withClient(try await RedisServer.sharedURL(), poolSize: 3) { redis in
            let prefix = key("c")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<500 {
                    group.addTask {
                        try await redis.send(RedisCommand("SET", RedisArgument("\(prefix):\(index)"), RedisArgument(index)))
                        let value = try await redis.send(RedisCommand("GET", RedisArgument("\(prefix):\(index)")))
                        #expect(value.integer == Int64(index))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Light load rides the first connection; requests beyond ``RedisClient/spillAt`` waiting on
    /// it go to the second. A private server, held busy by a script, so that requests pile up.
    @Test func commandsFillTheFirstConnectionAndSpillOverToTheNext() async throws {
        let server = try await RedisServer.start()
        // The busy connection must not count as stalled while the burst is sent, however slowly a
        // loaded machine sends it (stalls have their own test below).
        try await withClient(server.url, commandTimeout: .seconds(10), poolSize: 2, stalledAfter: .seconds(30)) { redis in
            for _ in 0..<300 where redis.liveConnections < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(redis.liveConnections == 2)
            var quiet = Set<Int64>()
            for _ in 0..<20 { quiet.insert(try await redis.send(RedisCommand("CLIENT", "ID")).integer ?? -1) }
            #expect(quiet.count == 1, "one connection carries light load")

            // Busy for 800 ms (the requests below are sent well within it): all of them wait.
            let spin = "local t = redis.call('TIME') local start = t[1] * 1000000 + t[2] "
                + "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 800000 return 1"
            let busy = Task { try await redis.send(RedisCommand("EVAL", RedisArgument(spin), 0)) }
            try await Task.sleep(for: .milliseconds(50))
            let counts = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<(RedisClient.spillAt + RedisClient.spillAt / 2) {
                    group.addTask { try await redis.send(RedisCommand("CLIENT", "ID")).integer ?? -1 }
                }
                var counts = [Int64: Int]()
                for try await id in group { counts[id, default: 0] += 1 }
                return counts
            }
            #expect(try await busy.value == .integer(1))
            #expect(counts.count == 2, "the overflow went to the second connection: \(counts)")
            #expect((counts[quiet.first ?? -1] ?? 0) >= RedisClient.spillAt - 1, "the first was filled first: \(counts)")
        }
        await server.stop()
    }

    /// A connection stalled on its own is passed over while it has a request waiting longer than
    /// ``RedisConnectionLoad/stalledAfter``. `BLPOP` on an empty list holds up its connection only
    /// (the server goes on serving the others), as a lost packet or a large value on the wire would.
    @Test func aStalledConnectionIsPassedOver() async throws {
        try await withClient(try await RedisServer.sharedURL(), commandTimeout: .seconds(10), poolSize: 2) { redis in
            for _ in 0..<300 where redis.liveConnections < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(redis.liveConnections == 2)
            let first = try await redis.send(RedisCommand("CLIENT", "ID"))
            let list = key("empty")
            let blocked = Task { try await redis.send(RedisCommand("BLPOP", RedisArgument(list), 5)) }
            try await Task.sleep(for: .milliseconds(300))
            let other = try await redis.send(RedisCommand("CLIENT", "ID"))
            #expect(other != first)
            // Had `CLIENT ID` waited behind the BLPOP, the list would be filled only after the BLPOP gave up.
            _ = try await redis.send(RedisCommand("RPUSH", RedisArgument(list), "wake"))
            #expect(try await blocked.value == .array([.bulkString(Array(list.utf8)), .bulkString(Array("wake".utf8))]), "the BLPOP was still waiting")
            #expect(try await redis.send(RedisCommand("CLIENT", "ID")) == first, "back on the first once it answered")
        }
    }

    @Test func scriptsRunBySHAAndReloadAfterAFlush() async throws {
        try await withClient(try await RedisServer.sharedURL()) { redis in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let name = key("script")
            #expect(try await redis.run(script, keys: [name], arguments: [5]) == .integer(5))
            #expect(try await redis.run(script, keys: [name], arguments: [2]) == .integer(7))
            try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await redis.run(script, keys: [name], arguments: [1]) == .integer(8))
        }
    }

    @Test func serverKilledMidPipelineFailsTheCommandsPromptly() async throws {
        let server = try await RedisServer.start()
        try await withClient(server.url, commandTimeout: .seconds(10)) { redis in
            let name = key("blocked")
            let started = ContinuousClock.now
            let replies = Task {
                try await redis.pipeline([
                    RedisCommand("SET", RedisArgument(name), "1"), RedisCommand("BLPOP", RedisArgument(name + "list"), 8),
                    RedisCommand("GET", RedisArgument(name)),
                ])
            }
            try await Task.sleep(for: .milliseconds(200))
            server.kill()
            await #expect(throws: RedisError.connectionClosed) { _ = try await replies.value }
            #expect(ContinuousClock.now - started < .seconds(5))
            // Down: commands fail fast instead of waiting.
            try await Task.sleep(for: .milliseconds(100))
            let failing = ContinuousClock.now
            await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("PING")) }
            #expect(ContinuousClock.now - failing < .seconds(2))
        }
    }

    @Test func reconnectsWhenTheServerReturns() async throws {
        let server = try await RedisServer.start()
        let changes = Locked([Bool]())
        var configuration = try RedisConfiguration(url: server.url)
        configuration.firstBackoff = .milliseconds(20)
        configuration.longestBackoff = .milliseconds(100)
        let redis = RedisClient(configuration: configuration, logger: Self.logger) { up in changes.withLock { $0.append(up) } }
        try await withTimeLimit(.seconds(30)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await redis.run() }
                defer { group.cancelAll() }
                #expect(try await redis.send(RedisCommand("SET", "reconnect", "before")) == .simpleString("OK"))
                await server.stop()
                try await Task.sleep(for: .milliseconds(300))
                #expect(!redis.isUp)
                await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("PING")) }
                try await server.restart()
                var answered = false
                for _ in 0..<100 where !answered {
                    answered = (try? await redis.send(RedisCommand("PING"))) == .simpleString("PONG")
                    if !answered { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(answered)
                #expect(redis.isUp)
            }
        }
        #expect(changes.value.first == true)
        #expect(changes.value.contains(false))
        #expect(changes.value.last == true)
        // Once per change: never the same state twice in a row.
        #expect(zip(changes.value, changes.value.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test func aSlowReplyTimesOutAndTheClientRecovers() async throws {
        try await withClient(try await RedisServer.sharedURL(), commandTimeout: .milliseconds(200), poolSize: 1) { redis in
            let started = ContinuousClock.now
            await #expect(throws: RedisError.timeout(command: "BLPOP")) {
                try await redis.send(RedisCommand("BLPOP", RedisArgument(key("never")), 3))
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            var answered = false
            for _ in 0..<40 where !answered {
                answered = (try? await redis.send(RedisCommand("PING"))) == .simpleString("PONG")
                if !answered { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(answered)
        }
    }

    @Test func wrongOrMissingPasswordAndBadDatabaseAreClearErrors() async throws {
        let server = try await RedisServer.start(password: "s3cret")
        let good = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3")
        let connection = try await RedisConnection.connect(good)
        #expect(try await connection.send([RedisCommand("PING")]) == [.simpleString("PONG")])
        await connection.close()

        await #expect(throws: RedisError.self) {
            do {
                _ = try await RedisConnection.connect(try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(server.port)/0"))
            } catch let error as RedisError {
                guard case .authenticationFailed(let message) = error else { Issue.record("got \(error)"); throw error }
                #expect(message.contains("WRONGPASS") || message.contains("invalid"))
                #expect(!"\(error)".contains("wrong"))  // the password is never in the message
                throw error
            }
        }
        await #expect(throws: RedisError.self) {
            do {
                _ = try await RedisConnection.connect(try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
            } catch let error as RedisError {
                guard case .authenticationFailed(let message) = error else { Issue.record("got \(error)"); throw error }
                #expect(message.contains("NOAUTH"))
                throw error
            }
        }
        await #expect(throws: RedisError.self) {
            do {
                _ = try await RedisConnection.connect(try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/999"))
            } catch let error as RedisError {
                guard case .invalidDatabase(999, _) = error else { Issue.record("got \(error)"); throw error }
                throw error
            }
        }
        await server.stop()
    }

    @Test func nothingListeningIsAConnectError() async throws {
        let port = try freePort()
        await #expect(throws: RedisError.self) {
            do {
                _ = try await RedisConnection.connect(try RedisConfiguration(url: "redis://127.0.0.1:\(port)"))
            } catch let error as RedisError {
                guard case .connectFailed = error else { Issue.record("got \(error)"); throw error }
                throw error
            }
        }
    }

    @Test func aServerSpeakingSomethingElseIsAProtocolError() async throws {
        let garbage = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(GarbageHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { garbage.close(promise: nil) }
        await #expect(throws: RedisError.self) {
            do {
                _ = try await RedisConnection.connect(try RedisConfiguration(url: "redis://127.0.0.1:\(garbage.localAddress!.port!)"))
            } catch let error as RedisError {
                guard case .protocolError = error else { Issue.record("got \(error)"); throw error }
                throw error
            }
        }
    }
}

/// Answers anything with text that is not RESP.
private final class GarbageHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n\r\n")), promise: nil)
    }
}
