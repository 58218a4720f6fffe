// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The `hub` executable, built beside the test binary, run as a child process on a given port, so
/// that a test can kill it as a crash would (SIGKILL) and start it again on the same database.
///
/// Its output goes to a file in its folder (never a pipe that could fill up).
final class HubProcess: Sendable {
    struct NotReady: Error, CustomStringConvertible {
        let output: String
        var description: String { "the hub did not become ready; its output:\n\(output.suffix(4000))" }
    }

    let port: Int
    let process: Process
    let logPath: String

    /// The built `hub` next to the running test binary.
    static var executable: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("hub").path
    }

    /// Starts `hub serve` with `configPath` on `port` and waits until `/health` answers.
    init(configPath: String, port: Int, logPath: String, environment: [String: String] = [:]) async throws {
        self.port = port
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--config", configPath]
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HUB_") && !$0.key.hasPrefix("OPENAI_") }
        variables["HUB_SERVER_PORT"] = String(port)
        variables.merge(environment) { $1 }
        process.environment = variables
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if let response = try? await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(1)),
                response.status == .ok
            {
                break
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                kill()
                throw NotReady(output: output)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What the hub wrote so far.
    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Kills it at once (SIGKILL: no shutdown, nothing flushed) and waits until it is gone.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Asks it to stop (SIGINT, a graceful shutdown) and waits until it is gone (SIGKILL after
    /// `timeout`); returns whether it stopped by itself.
    @discardableResult
    func interrupt(timeout: Duration = .seconds(20)) async -> Bool {
        guard process.isRunning else { return true }
        Foundation.kill(process.processIdentifier, SIGINT)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        guard process.isRunning else { return true }
        kill()
        return false
    }

    /// A free TCP port on 127.0.0.1 (bound and released; the hub binds it next).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
