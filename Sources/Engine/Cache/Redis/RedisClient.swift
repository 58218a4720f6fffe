// SPDX-License-Identifier: Apache-2.0
import Crypto
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// An async Redis client: a small pool of pipelined connections that reconnect with backoff.
///
/// Run it as a `Service`; it keeps ``RedisConfiguration/poolSize`` connections open and fills them
/// in order: a command goes to the first live connection unless that one already has
/// ``spillAt`` requests awaiting replies or is stalled (its oldest has waited longer than
/// ``RedisConnectionLoad/stalledAfter``), then to the next, and to the least busy when all are.
/// Redis runs one command at a time, so one connection carrying everything costs least on both
/// sides: each event-loop turn sends one larger write and reads one larger reply, where spreading
/// the same load would split it into several smaller ones (measured with `RedisLoad`: about a
/// sixth less client CPU per pipelined command than round robin over two connections). The other
/// connections carry the overflow and stand by: when the first one drops or stalls, commands go on
/// over the next at once.
///
/// While no connection is up the client answers at once with
/// ``RedisError/unavailable(_:)`` (so callers fall back without waiting), except during a first
/// attempt to (re)connect, which commands wait for up to the connect timeout.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379/0"), logger: logger)
/// // in a ServiceGroup, or: group.addTask { try await redis.run() }
/// try await redis.send(RedisCommand("SET", "k", "v", "EX", 60))
/// let value = try await redis.send(RedisCommand("GET", "k")).string
/// ```
public final class RedisClient: Service, Sendable {
    private enum Slot {
        /// Connecting; `retry` is false for a first attempt, which commands wait for.
        case connecting(retry: Bool)
        case up(RedisConnection)
        case backingOff
    }

    private struct Waiter {
        let id: UInt64
        let promise: EventLoopPromise<RedisConnection>
    }

    private struct State {
        var slots: [Slot]
        var isUp = false
        var lastError: String = "not connected yet"
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
    }

    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onStateChange: @Sendable (Bool) -> Void
    private let state: Mutex<State>
    /// The up/down state last logged and passed to `onStateChange`; nil before the first report.
    private let reported = Mutex<Bool?>(nil)

    /// - Parameters:
    ///   - onStateChange: called with true when the first connection comes up and false when the
    ///     last one is lost (once per change), e.g. to set a `redis_up` gauge.
    public init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, onStateChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onStateChange = onStateChange
        self.state = Mutex(State(slots: Array(repeating: .connecting(retry: false), count: configuration.poolSize)))
    }

    /// Requests a connection may have awaiting replies before commands go to the next one.
    static let spillAt = 64

    /// Whether at least one connection is up.
    public var isUp: Bool { state.withLock { $0.isUp } }

    /// How many connections are up.
    var liveConnections: Int {
        state.withLock { $0.slots.count { if case .up(let connection) = $0 { connection.isActive } else { false } } }
    }

    /// Why the client is down (the last connection error), for `/ready`'s detail.
    public var lastError: String { state.withLock { $0.lastError } }

    // MARK: Commands

    /// Sends one command; an error reply is thrown as ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        let reply = try await connection().send([command])[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends commands in one write on one connection and returns their replies in order; error
    /// replies are values here, so one failing command does not hide the others' results.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        try await connection().send(commands)
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` when the server does not
    /// know it yet (first use, or after a restart).
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument] = []) async throws -> RESPValue {
        let tail = [RedisArgument(keys.count)] + keys.map { RedisArgument($0) } + arguments
        do {
            return try await send(RedisCommand("EVALSHA", arguments: [RedisArgument(script.sha1)] + tail))
        } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await send(RedisCommand("EVAL", arguments: [RedisArgument(script.source)] + tail))
        }
    }

    private func connection() async throws -> RedisConnection {
        enum Choice {
            case ready(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case unavailable(String)
        }
        let choice = state.withLock { state -> Choice in
            var least: (connection: RedisConnection, load: Int)?
            var now: NIODeadline?
            for slot in state.slots {
                guard case .up(let connection) = slot, connection.isActive else { continue }
                let load = connection.load.inFlight.load(ordering: .relaxed)
                if load == 0 { return .ready(connection) }
                if load < Self.spillAt {
                    let time = now ?? .now()
                    now = time
                    if !connection.load.isStalled(at: time) { return .ready(connection) }
                }
                if load < least?.load ?? .max { least = (connection, load) }
            }
            if let least { return .ready(least.connection) }
            let firstAttempt = state.slots.contains { if case .connecting(retry: false) = $0 { true } else { false } }
            guard firstAttempt else { return .unavailable(state.lastError) }
            state.nextWaiterID += 1
            let eventLoop = eventLoopGroup.any()
            let waiter = Waiter(id: state.nextWaiterID, promise: eventLoop.makePromise())
            state.waiters.append(waiter)
            let id = waiter.id
            eventLoop.scheduleTask(in: .init(configuration.connectTimeout)) { [self] in
                self.removeWaiter(id)?.fail(RedisError.unavailable("no connection within the connect timeout"))
            }
            return .wait(waiter.promise.futureResult)
        }
        switch choice {
        case .ready(let connection): return connection
        case .wait(let future): return try await future.get()
        case .unavailable(let why): throw RedisError.unavailable(why)
        }
    }

    private func removeWaiter(_ id: UInt64) -> EventLoopPromise<RedisConnection>? {
        state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).promise
        }
    }

    // MARK: Connections

    /// Keeps the pool connected until cancelled or shut down gracefully, then closes it.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for slot in 0..<configuration.poolSize {
                group.addTask { await self.maintain(slot) }
            }
        }
        failWaiters(with: "the Redis client stopped")
    }

    private func maintain(_ slot: Int) async {
        var backoff = configuration.firstBackoff
        var retry = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            update(slot, to: .connecting(retry: retry))
            do {
                let connection = try await RedisConnection.connect(configuration, on: eventLoopGroup.next())
                update(slot, to: .up(connection))
                backoff = configuration.firstBackoff
                // Waiting on the close future ignores cancellation, so both shutdown and
                // cancellation close the channel, which ends the wait.
                await withTaskCancellationHandler {
                    await withGracefulShutdownHandler {
                        await connection.closed()
                    } onGracefulShutdown: {
                        connection.channel.close(promise: nil)
                    }
                } onCancel: {
                    connection.channel.close(promise: nil)
                }
                await connection.close()
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                update(slot, to: .connecting(retry: false), error: "connection to \(configuration.endpoint) closed")
                retry = false
                continue  // reconnect at once; commands wait for this first attempt
            } catch {
                update(slot, to: .backingOff, error: "\(error)")
            }
            retry = true
            let pause = backoff * Double.random(in: 0.8...1.2)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            backoff = min(backoff * 2, configuration.longestBackoff)
        }
        update(slot, to: .backingOff, error: "the Redis client stopped", quietly: true)
    }

    /// Records a slot's new state; logs and reports when the client as a whole went up or down,
    /// unless `quietly` (stopping).
    private func update(_ slot: Int, to new: Slot, error: String? = nil, quietly: Bool = false) {
        let (changed, _, waiters, connection) = state.withLock { state -> (Bool, Bool, [Waiter], RedisConnection?) in
            state.slots[slot] = new
            if let error { state.lastError = error }
            let isUp = state.slots.contains { if case .up = $0 { true } else { false } }
            let changed = isUp != state.isUp
            state.isUp = isUp
            var released = [Waiter]()
            if case .up(let connection) = new {
                released = state.waiters
                state.waiters = []
                return (changed, isUp, released, connection)
            }
            let anyFirstAttempt = state.slots.contains { if case .connecting(retry: false) = $0 { true } else { false } }
            if !isUp && !anyFirstAttempt {
                released = state.waiters
                state.waiters = []
            }
            return (changed, isUp, released, nil)
        }
        if let connection {
            for waiter in waiters { waiter.promise.succeed(connection) }
        } else {
            for waiter in waiters { waiter.promise.fail(RedisError.unavailable(error ?? "no connection")) }
        }
        // Also report the first failure of a client that was never up.
        let settled = if case .connecting = new { false } else { true }
        guard changed || settled, !quietly else { return }
        // Two slots can change at once; report what the client is now, and only when that differs
        // from the last report, so reports alternate and the last one is the truth.
        reported.withLock { reported in
            let now = self.isUp
            guard now != reported else { return }
            reported = now
            if now {
                logger.info("Redis up", metadata: ["hub.redis": "\(configuration.endpoint)"])
            } else {
                logger.warning(
                    "Redis down; using the in-process fallback until it returns",
                    metadata: ["hub.redis": "\(configuration.endpoint)", "error": "\(error ?? lastError)"])
            }
            onStateChange(now)
        }
    }

    private func failWaiters(with why: String) {
        let waiters = state.withLock { state in
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.promise.fail(RedisError.unavailable(why)) }
    }
}

/// A Lua script run with `EVALSHA` (and `EVAL` the first time a server sees it).
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lower-case hex SHA-1 of ``source``, as Redis names scripts.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Hex.string(Insecure.SHA1.hash(data: Array(source.utf8)))
    }
}
