// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A real `redis-server` started by a test on a free loopback port, for tests that stop, kill or
/// restart Redis or need a password. (`make test` also starts one shared server and exports its URL
/// as `HUB_TEST_REDIS_URL`; ``shared()`` uses that one when it is set.)
public final class RedisServer: Sendable {
    public let port: Int
    public let password: String?
    private let directory: URL
    private let process = Mutex<Process?>(nil)

    private init(port: Int, password: String?) {
        self.port = port
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-redis-\(UUID().uuidString)")
    }

    /// Starts a server and waits until it answers `PING`.
    public static func start(password: String? = nil) async throws -> RedisServer {
        let server = RedisServer(port: try freePort(), password: password)
        try FileManager.default.createDirectory(at: server.directory, withIntermediateDirectories: true)
        try await server.launch()
        return server
    }

    /// The URL of `make test`'s shared server, or of a server started for this process.
    public static func sharedURL() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["HUB_TEST_REDIS_URL"], !url.isEmpty { return url }
        return try await fallback.value.url
    }

    private static let fallback = Task {
        let server = try await RedisServer.start()
        // A static is never deinitialised: stop its server when the test process exits.
        if let pid = server.process.withLock({ $0?.processIdentifier }) {
            fallbackServerPID.store(pid, ordering: .relaxed)
            atexit {
                let pid = fallbackServerPID.load(ordering: .relaxed)
                if pid > 0 { Foundation.kill(pid, SIGKILL) }
            }
        }
        return server
    }

    /// `redis://[:password@]127.0.0.1:port/0`
    public var url: String {
        "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0"
    }

    /// Starts the server again on the same port (after ``stop()`` or ``kill()``).
    public func restart() async throws {
        try await launch()
    }

    /// Stops the server the polite way (`SHUTDOWN NOSAVE`, so clients see it close their
    /// connections) and waits for it to exit.
    ///
    /// Not SIGTERM: a process started from a Swift test inherits the test thread's blocked-signal
    /// mask through Foundation's `Process`, so redis-server never sees SIGTERM. SIGKILL cannot be
    /// blocked and stays the fallback.
    ///
    /// - Parameter keepingData: save the data first (`SHUTDOWN SAVE`), so ``restart()`` comes back
    ///   with it, as a Redis with persistence does.
    public func stop(keepingData: Bool = false) async {
        let configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port), password: password)
        if let connection = try? await RedisConnection.connect(configuration) {
            _ = try? await connection.send([RedisCommand("SHUTDOWN", keepingData ? "SAVE" : "NOSAVE")], timeout: .seconds(5))
            await connection.close()
        }
        end(signal: SIGKILL)
    }

    /// Kills the server with SIGKILL (no goodbye to clients) and waits for it to exit.
    public func kill() {
        end(signal: SIGKILL)
    }

    deinit {
        end(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    private func end(signal: Int32) {
        guard let running = process.withLock({ process -> Process? in
            defer { process = nil }
            return process
        }) else { return }
        Foundation.kill(running.processIdentifier, signal)
        running.waitUntilExit()
    }

    private func launch() async throws {
        let launched = Process()
        launched.executableURL = try Self.executable()
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path,
            "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        if let password { arguments += ["--requirepass", password] }
        launched.arguments = arguments
        launched.standardOutput = FileHandle.nullDevice
        launched.standardError = FileHandle.nullDevice
        try launched.run()
        process.withLock { $0 = launched }
        let configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port), password: password)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let connection = try? await RedisConnection.connect(configuration) {
                await connection.close()
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisServerError(message: "redis-server did not answer on port \(port) within 10 s")
    }

    private static func executable() throws -> URL {
        for folder in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw RedisServerError(message: "redis-server is not installed (make test installs it)")
    }
}

/// The process id of ``RedisServer/sharedURL()``'s own server, for the exit handler.
private let fallbackServerPID = Atomic<Int32>(0)

struct RedisServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: "127.0.0.1", port: 0).wait()
    defer { try? channel.close().wait() }
    return channel.localAddress?.port ?? 0
}
