// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import NIOCore
import NIOWebSocket
import Testing

@testable import Hub
import NIOHTTP1

/// The web chat door over real sockets: the WebSocket protocol, REST and SSE, limits and safety.
@Suite(.timeLimit(.minutes(2)))
struct WebChatTests {
    /// Runs a hub whose provider is a fresh ``FakeUpstream``; `web` is the body of the `web:` section.
    func withHub(
        web: String = "{}", chat: String = "", upstream: FakeUpstream = FakeUpstream(),
        _ body: @escaping @Sendable (_ port: Int, _ upstream: FakeUpstream) async throws -> Void
    ) async throws {
        try await upstream.run { url in
            let configuration = try TestHub.configuration(upstream: url, databasePath: TestHub.databasePath(), chat: chat, extra: "web: \(web)")
            try await TestHub.run(configuration) { port, _ in try await body(port, upstream) }
        }
    }

    /// Runs `body` with a client connected to `path`, closing it afterwards.
    func withClient(
        port: Int, path: String = "/ws/chat/alice", headers: HTTPFields = [:], _ body: (WebChatClient) async throws -> Void
    ) async throws {
        let (client, task) = WebChatClient.connect(port: port, path: path, headers: headers)
        defer {
            client.close()
            task.cancel()
        }
        try await body(client)
        client.close()
        _ = await task.result
    }

    // MARK: WebSocket protocol

    @Test func aMessageStreamsItsAnswerAndIsRemembered() async throws {
        try await withHub { (port: Int, upstream: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                let history = try await client.history()
                #expect(history["messages"] == .array([]))
                #expect(history["models"] == ["model-a", "model-b"])
                #expect(history["model"] == .null)
                client.message("m1", "hello there, answer slowly")
                let done = try await client.frame("done", id: "m1")
                #expect(client.deltas("m1").count >= 4)  // word by word, as the upstream wrote it
                #expect(client.deltas("m1").joined() == "echo: hello there, answer slowly")
                #expect(done["model"] == "model-a")
                // The frames came in order: no delta after done.
                let frames = client.frames.filter { $0["id"] == "m1" }.compactMap { $0["type"]?.stringValue }
                #expect(frames.last == "done")
                #expect(upstream.requests.count == 1)
            }
            // A reload (a new connection with the same client id) gets the conversation back.
            try await withClient(port: port) { (client: WebChatClient) async throws in
                let messages = try await client.history()["messages"]?.arrayValue ?? []
                #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant"])
                #expect(messages.map { $0["content"]?.stringValue } == ["hello there, answer slowly", "echo: hello there, answer slowly"])
                #expect(messages.allSatisfy { $0["created_at"]?.stringValue?.hasSuffix("Z") == true })
            }
            // Another client id is another conversation; the alias path works too.
            try await withClient(port: port, path: "/ws/bob") { (client: WebChatClient) async throws in
                #expect(try await client.history()["messages"] == .array([]))
                client.message("b1", "second turn")
                try await client.frame("done", id: "b1")
                #expect(upstream.requests.last?.messages.map(\.content) == ["You are a helpful assistant.", "second turn"])
            }
        }
    }

    @Test func commandsWorkAsOnQQ() async throws {
        try await withHub { (port: Int, upstream: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                _ = try await client.history()
                client.message("1", "first")
                try await client.frame("done", id: "1")
                client.message("2", "/model model-b")
                try await client.frame("done", id: "2")
                #expect(client.deltas("2").joined() == "Model switched to model-b.")
                client.message("3", "/reset")
                try await client.frame("done", id: "3")
                #expect(client.deltas("3").joined().contains("Conversation cleared"))
                client.message("4", "after the reset")
                let done = try await client.frame("done", id: "4")
                #expect(done["model"] == "model-b")
                #expect(upstream.requests.last?.model == "model-b")
                #expect(upstream.requests.last?.messages.map(\.content) == ["You are a helpful assistant.", "after the reset"])
            }
            try await withClient(port: port) { (client: WebChatClient) async throws in
                let history = try await client.history()
                #expect(history["model"] == "model-b")
                #expect((history["messages"]?.arrayValue ?? []).count == 2)
            }
        }
    }

    @Test func badFramesGetErrorsAndTheConnectionStays() async throws {
        try await withHub(web: "{ max_message_bytes: 64 }") { (port: Int, upstream: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                _ = try await client.history()
                client.send("this is not json")
                let notJSON = try await client.frame("error", id: nil)
                #expect(notJSON["message"]?.stringValue?.contains("JSON") == true)
                client.send(#"{"type":"typing","id":"t1"}"#)
                #expect(try await client.frame("error", id: "t1")["message"]?.stringValue?.contains("unknown frame type") == true)
                client.send(#"{"type":"message","id":"t2","text":42}"#)
                #expect(try await client.frame("error", id: "t2")["message"]?.stringValue?.contains("\"text\"") == true)
                client.send(#"{"type":"message","id":{"x":1},"text":"hi"}"#)
                client.send(#"[1,2,3]"#)
                client.sendBinary([0xFF, 0x00, 0x7B])
                client.message("t3", String(repeating: "é", count: 40))  // 80 bytes > 64
                #expect(try await client.frame("error", id: "t3")["message"]?.stringValue?.contains("too long") == true)
                client.message("t4", "   ")
                #expect(try await client.frame("error", id: "t4")["message"]?.stringValue?.contains("empty") == true)
                // Still serving: a good message is answered.
                client.message("ok", "still there?")
                try await client.frame("done", id: "ok")
                let errors = client.frames.filter { $0["type"] == "error" }
                #expect(errors.count == 8)
                #expect(upstream.requests.count == 1)
            }
        }
    }

    @Test func aFrameBeyondTheLimitClosesWith1009() async throws {
        try await withHub(web: "{ max_message_bytes: 64 }") { (port: Int, _: FakeUpstream) async throws in
            let (client, task) = WebChatClient.connect(port: port, path: "/ws/chat/alice")
            defer { task.cancel() }
            _ = try await client.history()
            client.message("big", String(repeating: "x", count: 10_000))
            try await client.waitUntilEnded()
            #expect(client.closeCode == .messageTooLarge)
            // The hub keeps serving.
            try await withClient(port: port) { (other: WebChatClient) async throws in
                other.message("after", "hello")
                try await other.frame("done", id: "after")
            }
        }
    }

    @Test func anUpstreamFailureIsAnErrorFrameAndNotRemembered() async throws {
        try await withHub { (port: Int, _: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                _ = try await client.history()
                client.message("f1", "please fail")
                #expect(try await client.frame("error", id: "f1")["message"]?.stringValue?.contains("couldn't get an answer") == true)
                // Broken halfway through a stream: the text so far arrived, then an error, no done.
                client.message("f2", "one two three four five six break")
                try await client.frame("error", id: "f2")
                #expect(!client.deltas("f2").isEmpty)
                #expect(!client.frames.contains { $0["type"] == "done" && $0["id"] == "f2" })
            }
            try await withClient(port: port) { (client: WebChatClient) async throws in
                #expect(try await client.history()["messages"] == .array([]))
            }
        }
    }

    @Test func theRateLimitAnswersEveryRefusedMessageOnce() async throws {
        try await withHub(web: #"{ rate_limit: "2/60s" }"#) { (port: Int, upstream: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                _ = try await client.history()
                for index in 1...4 { client.message("r\(index)", "message \(index)") }
                try await client.frame("done", id: "r1")
                try await client.frame("done", id: "r2")
                let third = try await client.frame("error", id: "r3")
                #expect(third["message"]?.stringValue?.contains("too fast") == true)
                try await client.frame("error", id: "r4")
                // A marker in the same session (refused too) comes after anything more for r3.
                client.message("r5", "marker")
                try await client.frame("error", id: "r5")
                #expect(client.frames.filter { $0["id"] == "r3" }.count == 1)
                #expect(upstream.requests.count == 2)
            }
            // REST shares the limit and says when to come back.
            let response = try await post(port, ["client_id": "alice", "message": "once more"])
            #expect(response.status == 429)
            #expect(Int(response.header("Retry-After") ?? "") ?? 0 >= 1)
        }
    }

    @Test func aDuplicateMessageIDIsRefused() async throws {
        try await withHub { (port: Int, upstream: FakeUpstream) async throws in
            try await withClient(port: port) { (client: WebChatClient) async throws in
                _ = try await client.history()
                client.message("same", "first")
                try await client.frame("done", id: "same")
                client.message("same", "first again")
                #expect(try await client.frame("error", id: "same")["message"]?.stringValue?.contains("used before") == true)
                #expect(upstream.requests.count == 1)
            }
        }
    }

    // MARK: Handshake

    func upgrade(port: Int, path: String, headers: [(String, String)] = []) async throws -> (UInt, String) {
        try await webSocketUpgrade(port: port, path: path, headers: headers)
    }

    @Test func theTokenOriginAndClientIDAreCheckedBeforeTheUpgrade() async throws {
        let web = #"{ access_token: "w3b", allowed_origins: ["https://chat.example.com"] }"#
        try await withHub(web: web) { (port: Int, _: FakeUpstream) async throws in
            let (missing, body) = try await upgrade(port: port, path: "/ws/chat/alice")
            #expect(missing == 401)
            #expect(body.contains("\"error\""))
            #expect(try await upgrade(port: port, path: "/ws/chat/alice?access_token=nope").0 == 403)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice", headers: [("Authorization", "Bearer nope")]).0 == 403)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice?access_token=w3b").0 == 101)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice", headers: [("Authorization", "Bearer w3b")]).0 == 101)
            #expect(try await upgrade(port: port, path: "/ws/chat/al%20ice?access_token=w3b").0 == 400)
            #expect(try await upgrade(port: port, path: "/ws/chat/\(String(repeating: "a", count: 65))?access_token=w3b").0 == 400)
            // Origins: the hub's own, a listed one, none at all (a program) pass; others do not.
            let token = "?access_token=w3b"
            #expect(try await upgrade(port: port, path: "/ws/chat/alice\(token)", headers: [("Origin", "http://127.0.0.1:\(port)")]).0 == 101)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice\(token)", headers: [("Origin", "https://chat.example.com")]).0 == 101)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice\(token)", headers: [("Origin", "https://evil.example")]).0 == 403)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice\(token)", headers: [("Origin", "null")]).0 == 403)
            // A plain GET says what the endpoint is for.
            let plain = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/ws/chat/alice?access_token=w3b"), timeout: .seconds(5))
            #expect(plain.status.code == 426)
            // A real client with the token talks; REST needs the token too.
            try await withClient(port: port, path: "/ws/chat/alice", headers: [.authorization: "Bearer w3b"]) { (client: WebChatClient) async throws in
                client.message("1", "hi")
                try await client.frame("done", id: "1")
            }
            #expect(try await post(port, ["client_id": "alice", "message": "hi"]).status == 401)
            #expect(try await post(port, ["client_id": "alice", "message": "hi"], token: "nope").status == 403)
            #expect(try await post(port, ["client_id": "alice", "message": "hi"], token: "w3b").status == 200)
            #expect(try await get(port, "/api/v1/chat/models").status == 401)
            #expect(try await get(port, "/api/v1/chat/models", token: "w3b").status == 200)
        }
    }

    // MARK: REST and SSE

    struct Answer {
        let status: UInt
        let headers: [(String, String)]
        let body: String
        var json: JSONValue? { try? JSONValue(parsing: body) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    func post(_ port: Int, _ body: JSONValue, token: String? = nil) async throws -> Answer {
        try await post(port, raw: body.compactJSON, token: token)
    }

    func post(_ port: Int, raw: String, token: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/chat")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: raw))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: response.status.code, headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: body))
    }

    func get(_ port: Int, _ path: String, token: String? = nil, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: response.status.code, headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: body))
    }

    @Test func restAnswersAsJSONAndSharesTheSession() async throws {
        try await withHub { (port: Int, upstream: FakeUpstream) async throws in
            let first = try await post(port, ["client_id": "carol", "message": "hello"])
            #expect(first.status == 200)
            #expect(first.json?["reply"] == "echo: hello")
            #expect(first.json?["client_id"] == "carol")
            #expect(first.json?["model"] == "model-a")
            #expect(first.json?["usage"]?["total_tokens"] == 5)
            #expect(first.json?["id"]?.stringValue?.isEmpty == false)
            // The WebSocket of the same client sees the REST turn.
            try await withClient(port: port, path: "/ws/chat/carol") { (client: WebChatClient) async throws in
                #expect((try await client.history()["messages"]?.arrayValue ?? []).count == 2)
            }
            #expect(upstream.requests.count == 1)
            let failed = try await post(port, ["client_id": "carol", "message": "please fail"])
            #expect(failed.status == 502)
            #expect(failed.json?["error"]?["message"]?.stringValue?.contains("couldn't get an answer") == true)
        }
    }

    @Test func withoutAProviderRestSays503AndTheSocketSaysWhy() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, _ in
            let answer = try await post(port, ["client_id": "erin", "message": "hello"])
            #expect(answer.status == 503)
            #expect(answer.json?["error"]?["message"]?.stringValue?.contains("No LLM provider") == true)
            try await withClient(port: port, path: "/ws/chat/erin") { (client: WebChatClient) async throws in
                #expect(try await client.history()["models"] == .array([]))
                client.message("1", "hello")
                #expect(try await client.frame("error", id: "1")["message"]?.stringValue?.contains("No LLM provider") == true)
                // Commands still work.
                client.message("2", "/help")
                try await client.frame("done", id: "2")
            }
        }
    }

    @Test func restRefusesBadRequestsClearly() async throws {
        try await withHub(web: "{ max_message_bytes: 64 }") { (port: Int, upstream: FakeUpstream) async throws in
            let cases: [(String, UInt, String)] = [
                ("not json", 400, "JSON object"),
                (#"["client_id"]"#, 400, "JSON object"),
                (#"{"message":"hi"}"#, 400, "client_id"),
                (#"{"client_id":"a b","message":"hi"}"#, 400, "client_id"),
                (#"{"client_id":"a","message":7}"#, 400, "\"message\""),
                (#"{"client_id":"a","message":"hi","stream":"yes"}"#, 400, "stream"),
                (#"{"client_id":"a","message":""}"#, 400, "empty"),
                (#"{"client_id":"a","message":"\#(String(repeating: "x", count: 65))"}"#, 413, "too long"),
                (String(repeating: " ", count: 70_000), 413, "larger than"),
            ]
            for (body, status, text) in cases {
                let answer = try await post(port, raw: body)
                #expect(answer.status == status, "\(body.prefix(40))")
                #expect(answer.json?["error"]?["message"]?.stringValue?.contains(text) == true, "\(answer.body)")
            }
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func restStreamsServerSentEvents() async throws {
        try await withHub { (port: Int, _: FakeUpstream) async throws in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/chat")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"client_id":"dave","message":"tell me slowly please","stream":true,"id":"s1"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            // Events arrive as they are written, not all at the end.
            var arrivals = [ContinuousClock.Instant]()
            var text = ""
            for try await chunk in response.body {
                arrivals.append(.now)
                text += String(buffer: chunk)
            }
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.compactMap { event -> JSONValue? in
                guard event.hasPrefix("data: ") else { return nil }
                return try? JSONValue(parsing: String(event.dropFirst(6)))
            }
            #expect(events.count >= 5)
            #expect(events.last?["type"] == "done")
            #expect(events.last?["id"] == "s1")
            let deltas = events.filter { $0["type"] == "delta" }.compactMap { $0["text"]?.stringValue }
            #expect(deltas.joined() == "echo: tell me slowly please")
            #expect(arrivals.count >= 3)
            #expect(arrivals.last! - arrivals.first! >= .milliseconds(200))
        }
    }

    // MARK: The page and health

    @Test func thePageIsServedFromTheBinaryWithASafePolicy() async throws {
        try await withHub { (port: Int, _: FakeUpstream) async throws in
            let page = try await get(port, "/")
            #expect(page.status == 200)
            #expect(page.body.contains("<html"))
            #expect(page.body.contains("app.js"))
            let headers = Dictionary(page.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { first, _ in first })
            #expect(headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(headers["x-content-type-options"] == "nosniff")
            let etag = try #require(headers["etag"])
            #expect(try await get(port, "/", headers: [("If-None-Match", etag)]).status == 304)
            let script = try await get(port, "/app.js")
            #expect(script.status == 200)
            #expect(script.headers.contains { $0.0.lowercased() == "content-type" && $0.1.hasPrefix("text/javascript") })
            #expect(try await get(port, "/app.css").status == 200)
            // The microphone's AudioWorklet module is a script of the page's own origin.
            let worklet = try await get(port, "/mic-worklet.js")
            #expect(worklet.status == 200)
            #expect(worklet.body.contains("registerProcessor(\"hub-mic\""))
            #expect(worklet.headers.contains { $0.0.lowercased() == "content-type" && $0.1.hasPrefix("text/javascript") })
            let models = try await get(port, "/api/v1/chat/models")
            #expect(models.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["model-a", "model-b"])
            #expect(models.json?["default"] == "model-a")
        }
    }

    @Test func apiHealthHasTheSeedShape() async throws {
        try await withHub { (port: Int, _: FakeUpstream) async throws in
            let health = try await get(port, "/api/health")
            #expect(health.status == 200)
            let json = try #require(health.json)
            #expect(json["status"] == "healthy")
            #expect(json["timestamp"]?.stringValue?.hasSuffix("Z") == true)
            for service in ["llm", "storage", "cache", "stt", "tts"] {
                #expect(json["services"]?[service]?.stringValue != nil, "\(service)")
            }
            #expect(json["services"]?["llm"] == "healthy")
            #expect(json["services"]?["storage"] == "healthy")
        }
        // Without a provider, chat cannot work: unhealthy, 503.
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, _ in
            let health = try await get(port, "/api/health")
            #expect(health.status == 503)
            #expect(health.json?["services"]?["llm"] == "unhealthy")
        }
    }

    @Test func theDoorCanBeTurnedOff() async throws {
        try await withHub(web: "{ enabled: false }") { (port: Int, _: FakeUpstream) async throws in
            #expect(try await get(port, "/").status == 404)
            #expect(try await upgrade(port: port, path: "/ws/chat/alice").0 == 404)
            #expect(try await post(port, ["client_id": "a", "message": "hi"]).status == 404)
        }
    }
}
