// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// The official `openai` Python package against the hub's `/v1` API. `make test` installs it into a
/// test virtualenv from PyPI and passes its interpreter as `HUB_TEST_PYTHON`.
@Suite(
    .timeLimit(.minutes(1)),
    .enabled(if: ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"] != nil, "needs HUB_TEST_PYTHON (make test sets it)"))
struct OpenAIPythonClientTests {
    @Test func theOfficialClientWorksStreamingAndNotAndSeesProperErrors() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/openai_client.py").path
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), extra: "gateway: { api_keys: [ sk-python ] }")
            try await TestHub.run(configuration) { port, _ in
                let output = try await HelperProcess.run(python, [script, "http://127.0.0.1:\(port)/v1", "sk-python"])
                let found = try JSONValue(parsing: output)
                #expect(found["models"] == ["model-a", "model-b"])
                #expect(found["whole"]?["content"] == "echo: hello from python")
                #expect(found["whole"]?["finish_reason"] == "stop")
                #expect(found["whole"]?["total_tokens"] == 5)
                #expect(found["stream"]?["content"] == "echo: stream please")
                #expect(found["stream"]?["finish"] == ["stop"])
                #expect(found["stream"]?["usage"] == 5)
                #expect(found["stream"]?["roles"] == ["assistant"])
                #expect(found["not_found"]?["status"] == 404)
                #expect(found["not_found"]?["code"] == "model_not_found")
                #expect(found["not_found"]?["param"] == "model")
                #expect(found["auth"]?["status"] == 401)
                #expect(found["auth"]?["code"] == "invalid_api_key")
                #expect(found["upstream_failure"]?["status"] == 502)
                #expect(found["upstream_failure"]?["type"] == "api_error")
                let expectedParams: [String: String] = [
                    "n_1000": "n", "n_negative": "n", "max_tokens_text": "max_tokens", "max_tokens_fraction": "max_tokens",
                    "stream_text": "stream", "stream_number": "stream", "temperature_text": "temperature", "top_p_range": "top_p",
                    "role": "messages[0].role", "content_type": "messages[0].content",
                ]
                for (name, param) in expectedParams {
                    let refusal = found["bad_parameters"]?[name]
                    #expect(refusal?["status"] == 400, "\(name): \(refusal?.compactJSON ?? "missing")")
                    #expect(refusal?["param"] == .string(param), "\(name): \(refusal?.compactJSON ?? "missing")")
                    #expect(refusal?["type"] == "invalid_request_error", "\(name)")
                }
            }
        }
    }
}
