// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

@testable import Hub

/// Starts the real hub on 127.0.0.1, port 0, with a throwaway SQLite file.
enum TestHub {
    static let token = "t0k3n"
    static let secret = "s3cr3t"

    /// A fresh database path in a temporary folder.
    static func databasePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hub-test-\(UUID().uuidString)/hub.sqlite").path
    }

    /// The configuration the integration tests use: token and secret set, one provider at `upstream`.
    /// `onebot` and `chat` are extra lines for those sections (indented by two spaces); `extra` holds
    /// more top-level sections.
    static func configuration(
        upstream: String?, databasePath: String, onebot: String = "", chat: String = "", extra: String = ""
    ) throws -> HubConfiguration {
        var yaml = """
            \(extra)
            server: { host: 127.0.0.1, port: 0 }
            storage: { sqlite_path: "\(databasePath)" }
            onebot:
              access_token: \(token)
              secret: \(secret)
              action_timeout: 5
            \(onebot)
            chat:
              nicknames: [hubby]
            \(chat)
            """
        if let upstream {
            yaml += """

                llm:
                  providers:
                    - name: fake
                      base_url: \(upstream)
                      api_key: upstream-key
                      models: [ { name: model-a }, { name: model-b } ]
                      timeout: 5
                      retry_attempts: 1
                """
        }
        return try HubConfiguration.parse(yaml: yaml, environment: [:])
    }

    static var logger: Logger {
        var logger = Logger(label: "hub-test")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    /// Runs the hub for the duration of `body`, passing its port and a test client.
    static func run<T: Sendable>(
        _ configuration: HubConfiguration, _ body: @Sendable (_ port: Int, _ client: any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let app = try await buildApplication(configuration, logger: logger)
        return try await app.test(.live) { client in
            try await body(client.port!, client)
        }
    }

    /// Runs the hub on the port its configuration names (the test framework always picks a free
    /// one), for tests that stop a hub and start another on the same address.
    static func serve<T: Sendable>(_ configuration: HubConfiguration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let (listening, signal) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(configuration, logger: logger) { port in
            signal.yield(port)
            signal.finish()
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                defer { signal.finish() }
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            for await _ in listening { break }
            group.addTask { try await body() }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                if let value = outcome { return value }
                throw CancellationError()  // the hub stopped before the body finished
            }
            throw CancellationError()
        }
    }
}
