// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Hub

/// `/v1/chat/completions` and `/v1/models` over real sockets, as an OpenAI client calls them.
@Suite(.timeLimit(.minutes(1)))
struct OpenAIGatewayTests {
    func withGateway(
        _ extra: String = "", upstream: FakeUpstream = FakeUpstream(), _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await upstream.run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { _, client in try await body(client) }
        }
    }

    func post(_ client: any TestClientProtocol, _ json: String, key: String? = nil) async throws -> (HTTPResponse.Status, HTTPFields, String) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: "/v1/chat/completions", method: .post, headers: headers, body: ByteBuffer(string: json)) {
            ($0.status, $0.headers, String(buffer: $0.body))
        }
    }

    @Test func modelsAndAWholeAnswer() async throws {
        try await withGateway { client in
            let models = try await client.execute(uri: "/v1/models", method: .get) { try JSONValue(parsing: $0.body.readableBytesView) }
            #expect(models["object"] == "list")
            #expect(models["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["model-a", "model-b"])
            #expect(models["data"]?.arrayValue?.first?["owned_by"] == "fake")

            let (status, _, text) = try await post(client, #"{"model":"model-a","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(status == .ok)
            let json = try JSONValue(parsing: text)
            #expect(json["object"] == "chat.completion")
            #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(json["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: hi")
            #expect(json["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
            #expect(json["usage"]?["total_tokens"] == 5)
        }
    }

    @Test func aStreamedAnswerIsExactlyOpenAIsShape() async throws {
        try await withGateway { client in
            let (status, headers, text) = try await post(
                client, #"{"model":"model-b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream me"}]}"#)
            #expect(status == .ok)
            #expect(headers[.contentType] == "text/event-stream")
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            let chunks = try events.dropLast().map { event -> JSONValue in
                #expect(event.hasPrefix("data: "))
                return try JSONValue(parsing: String(event.dropFirst(6)))
            }
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"]?.stringValue }).count == 1)
            #expect(chunks.first?["choices"]?.arrayValue?.first?["delta"]?["role"] == "assistant")
            let content = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(content == "echo: stream me")
            let finish = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            #expect(finish == ["stop"])
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == .array([]))
            #expect(usage["usage"]?["total_tokens"] == 5)
        }
    }

    @Test func aFinishedStreamIsCachedAndReplayed() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstream: upstream) { client in
            let body = #"{"model":"model-a","stream":true,"messages":[{"role":"user","content":"cache me"}]}"#
            let first = try await post(client, body).2
            let second = try await post(client, body).2
            let whole = try await post(client, #"{"model":"model-a","messages":[{"role":"user","content":"cache me"}]}"#).2
            #expect(upstream.requests.count == 1)
            func content(_ text: String) throws -> String {
                try text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }
                    .compactMap { try JSONValue(parsing: String($0.dropFirst(6)))["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }
                    .joined()
            }
            #expect(try content(first) == "echo: cache me")
            #expect(try content(second) == "echo: cache me")
            #expect(second.hasSuffix("data: [DONE]\n\n"))
            #expect(try JSONValue(parsing: whole)["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: cache me")
        }
    }

    @Test func errorsHaveOpenAIsShapeAndStatus() async throws {
        try await withGateway { client in
            func expectError(_ body: String, _ status: HTTPResponse.Status, type: String, param: String? = nil, code: String? = nil) async throws {
                let (got, _, text) = try await post(client, body)
                #expect(got == status, "\(body)")
                let error = try JSONValue(parsing: text)["error"]
                #expect(error?["type"]?.stringValue == type)
                #expect(error?["message"]?.stringValue?.isEmpty == false)
                #expect(error?["param"] == (param.map(JSONValue.string) ?? .null))
                #expect(error?["code"] == (code.map(JSONValue.string) ?? .null))
            }
            try await expectError("not json", .badRequest, type: "invalid_request_error")
            try await expectError(#"{"messages":[{"role":"user","content":"x"}]}"#, .badRequest, type: "invalid_request_error", param: "model")
            try await expectError(#"{"model":"model-a","messages":[]}"#, .badRequest, type: "invalid_request_error", param: "messages")
            try await expectError(
                #"{"model":"model-a","messages":[{"role":"wizard","content":"x"}]}"#, .badRequest, type: "invalid_request_error", param: "messages[0].role")
            try await expectError(
                #"{"model":"model-a","temperature":7,"messages":[{"role":"user","content":"x"}]}"#, .badRequest, type: "invalid_request_error",
                param: "temperature")
            try await expectError(
                #"{"model":"model-a","messages":[{"role":"user","content":[{"type":"text","text":null}]}]}"#, .badRequest,
                type: "invalid_request_error", param: "messages[0].content[0].text")
            try await expectError(
                #"{"model":"model-a","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#, .badRequest,
                type: "invalid_request_error", param: "messages[0].content[0].type")
            try await expectError(
                #"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#, .notFound, type: "invalid_request_error", param: "model",
                code: "model_not_found")
            try await expectError(#"{"model":"model-a","messages":[{"role":"user","content":"please fail"}]}"#, .badGateway, type: "api_error")
        }
    }

    @Test func generateTakesAPromptAndStreamsText() async throws {
        try await withGateway { client in
            let whole = try await client.execute(
                uri: "/api/v1/llm/generate", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"prompt":"tell me","temperature":0.5}"#)
            ) { try JSONValue(parsing: $0.body.readableBytesView) }
            #expect(whole["text"] == "echo: tell me")
            #expect(whole["model"] == "model-a")
            let streamed = try await client.execute(
                uri: "/api/v1/llm/generate", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"prompt":"flow","model":"model-b","stream":true}"#)
            ) { String(buffer: $0.body) }
            let events = streamed.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            let values = try events.dropLast().map { try JSONValue(parsing: String($0.dropFirst(6))) }
            #expect(values.compactMap { $0["text"]?.stringValue }.joined() == "echo: flow")
            #expect(values.last?["done"] == true)
            #expect(values.last?["usage"]?["total_tokens"] == 5)
            let missing = try await client.execute(
                uri: "/api/v1/llm/generate", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")
            ) { ($0.status, try JSONValue(parsing: $0.body.readableBytesView)) }
            #expect(missing.0 == .badRequest)
            #expect(missing.1["error"]?["param"] == "prompt")
        }
    }

    @Test func aGeneratedStreamThatFailsBeforeAnyTextGetsAnErrorStatus() async throws {
        try await withGateway { client in
            let (status, headers, text) = try await client.execute(
                uri: "/api/v1/llm/generate", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"prompt":"please fail","stream":true}"#)
            ) { ($0.status, $0.headers, String(buffer: $0.body)) }
            #expect(status == .badGateway)
            #expect(headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try JSONValue(parsing: text)["error"]?["type"] == "api_error")
        }
    }

    @Test func everyCandidateSaturatedIs429WithRetryAfter() async throws {
        // One route, one call at a time: while a slow answer holds it, the next request waits its
        // bounded time for a place, finds none anywhere, and is told when to come back.
        let upstream = FakeUpstream(slowDelay: .seconds(2))
        try await upstream.run { base in
            let yaml = """
                server: { host: 127.0.0.1, port: 0 }
                storage: { sqlite_path: "\(TestHub.databasePath())" }
                llm:
                  providers:
                    - name: tight
                      base_url: \(base)
                      models: [ { name: only, max_concurrent: 1 } ]
                      timeout: 5
                  caching: { enabled: false }
                """
            let configuration = try HubConfiguration.parse(yaml: yaml, environment: [:])
            try await TestHub.run(configuration) { port, _ in
                // Separate connections, as separate clients would use.
                func post(_ json: String) async throws -> (UInt, HTTPHeaders, String) {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: json))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    return (response.status.code, response.headers, String(buffer: try await response.body.collect(upTo: 1 << 20)))
                }
                async let slow = post(#"{"model":"only","messages":[{"role":"user","content":"held one"}]}"#)
                // The held request keeps the only place until the upstream is released.
                try await eventually("the held request to reach the upstream") { upstream.requests.count == 1 }
                let (status, headers, text) = try await post(#"{"model":"only","messages":[{"role":"user","content":"me too"}]}"#)
                #expect(status == 429)
                #expect(Int(headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
                let error = try JSONValue(parsing: text)["error"]
                #expect(error?["type"] == "rate_limit_error")
                #expect(error?["code"] == "rate_limit_exceeded")
                // Streamed requests get the same verdict before any byte of a stream.
                let (streamStatus, streamHeaders, _) = try await post(
                    #"{"model":"only","stream":true,"messages":[{"role":"user","content":"me three"}]}"#)
                #expect(streamStatus == 429)
                #expect(streamHeaders.first(name: "Retry-After") != nil)
                upstream.release()
                #expect(try await slow.0 == 200)
            }
        }
    }

    @Test func clientKeysWhenConfigured() async throws {
        try await withGateway("gateway: { api_keys: [ sk-client-1 ] }") { client in
            let body = #"{"model":"model-a","messages":[{"role":"user","content":"hi"}]}"#
            #expect(try await post(client, body).0 == .unauthorized)
            #expect(try await post(client, body, key: "sk-wrong").0 == .unauthorized)
            #expect(try await post(client, body, key: "sk-client-1").0 == .ok)
            let (_, _, text) = try await post(client, body, key: "sk-wrong")
            #expect(try JSONValue(parsing: text)["error"]?["code"] == "invalid_api_key")
        }
    }
}
