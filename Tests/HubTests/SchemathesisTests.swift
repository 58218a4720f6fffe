// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Hub

/// schemathesis (PyPI, in the test virtualenv that `make test` sets up and passes as
/// `HUB_TEST_PYTHON`) against a live hub: it reads `/openapi.yaml` from the hub, generates requests
/// for every operation from the document's schemas (examples, boundary values, random ones, at most
/// 10 per operation and phase, then chains of operations along the document's links), sends them
/// with the right credential for each security scheme and checks every answer: no 5xx at all
/// (documented or not), a documented status, content type and headers, and a body (each event of
/// a stream included) that fits the documented schema. About 2,000 requests in 15 s on an idle
/// machine. The hub has a fake LLM upstream and a fake image service, every door on with its own
/// credential, and timeouts (`image.wait_timeout` 10 s, the LLM's 20 s) that the fakes never reach,
/// so a 5xx is the hub's own doing. WebSocket endpoints are only asked over plain HTTP here.
@Suite(
    .serialized, .timeLimit(.minutes(3)),
    .enabled(if: Schemathesis.executable != nil, "needs HUB_TEST_PYTHON with schemathesis (make test sets it up)"))
struct SchemathesisTests {
    static let gatewayKey = "gw-k3y"
    static let adminKey = "adm1n-k3y"
    static let webToken = "w3b-t0k3n"
    static let oneBotToken = "0neb0t-t0k3n"
    static let voiceToken = "v01ce-t0k3n"

    /// A hub with every door on, each with its own credential, the LLM at `upstream` and pictures
    /// from the fake image service at `images`. No `onebot.secret`, so that generated events reach
    /// the event decoder (schemathesis cannot sign bodies).
    static func configuration(upstream: String, images: String) throws -> HubConfiguration {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-schemathesis-\(UUID().uuidString)")
        return try HubConfiguration.parse(
            yaml: """
                server: { host: 127.0.0.1, port: 0 }
                storage:
                  sqlite_path: "\(folder.appendingPathComponent("hub.sqlite").path)"
                  media_dir: "\(folder.appendingPathComponent("media").path)"
                admin: { api_key: \(adminKey) }
                gateway: { api_keys: [\(gatewayKey)] }
                web: { access_token: \(webToken), rate_limit: "off" }
                voice: { access_token: \(voiceToken) }
                onebot: { access_token: \(oneBotToken), action_timeout: 2, reply_wait: 1 }
                chat: { rate_limit: { per_user: "off", per_group: "off" } }
                llm:
                  providers:
                    - name: fake
                      base_url: "\(upstream)"
                      api_key: upstream-key
                      models: [ { name: model-a }, { name: model-b } ]
                      timeout: 20
                      retry_attempts: 0
                image:
                  providers:
                    - { name: good, kind: openai, base_url: "\(images)/ok/v1", timeout: 10, retry_attempts: 0 }
                  width: 64
                  height: 64
                  wait_timeout: 10
                lanes: { batch: { max_concurrent: 2, queue: 256 } }
                """, environment: [:])
    }

    /// The credential of each security scheme of the document, as schemathesis reads it.
    static let authentication = """
        [auth.openapi.gatewayKey]
        bearer = "\(gatewayKey)"
        [auth.openapi.adminKey]
        bearer = "\(adminKey)"
        [auth.openapi.webToken]
        bearer = "\(webToken)"
        [auth.openapi.oneBotToken]
        bearer = "\(oneBotToken)"
        [auth.openapi.voiceToken]
        bearer = "\(voiceToken)"
        """

    /// The checks run on every answer.
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
        "response_schema_conformance",
    ]

    @Test func everyAnswerOfTheLiveHubKeepsToTheDocument() async throws {
        let schemathesis = try #require(Schemathesis.executable)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-schemathesis-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = folder.appendingPathComponent("schemathesis.toml")
        try Self.authentication.write(to: settings, atomically: true, encoding: .utf8)

        let upstream = FakeUpstream(slowDelay: .milliseconds(200))
        let images = FakeImageService(delay: .milliseconds(200))
        let started = ContinuousClock.now
        let outcome: Result<String, HelperProcess.Failed> = try await upstream.run { llm in
            try await images.run { imageBase in
                try await TestHub.run(try Self.configuration(upstream: llm, images: imageBase)) { port, _ in
                    var arguments = [
                        "--config-file", settings.path, "run", "http://127.0.0.1:\(port)/openapi.yaml",
                        "--checks", Self.checks.joined(separator: ","),
                        "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "10", "--workers", "2",
                        "--request-timeout", "60", "--generation-database", "none", "--no-color",
                    ]
                    // A failure's output names its seed; HUB_SCHEMATHESIS_SEED replays that run.
                    if let seed = ProcessInfo.processInfo.environment["HUB_SCHEMATHESIS_SEED"] { arguments += ["--seed", seed] }
                    do {
                        // In the throwaway folder: schemathesis keeps a `.schemathesis` cache where it runs.
                        return .success(try await HelperProcess.run(schemathesis, arguments, timeout: .seconds(150), workingDirectory: folder))
                    } catch let failed as HelperProcess.Failed {
                        return .failure(failed)
                    }
                }
            }
        }
        switch outcome {
        case .success(let output):
            // The summary, for the log: operations, test cases, time.
            print(output.split(separator: "\n").suffix(12).joined(separator: "\n"))
        case .failure(let failed):
            Issue.record("schemathesis exited \(failed.status) after \(ContinuousClock.now - started):\n\(failed.output)")
        }
    }
}

enum Schemathesis {
    /// `schemathesis` beside the test virtualenv's interpreter, when there is one.
    static var executable: String? {
        guard let python = ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"] else { return nil }
        let path = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
