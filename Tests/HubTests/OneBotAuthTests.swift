// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Hub

/// Authentication on both OneBot doors, decided before anything is processed (ONEBOT11.md §1.5).
@Suite(.timeLimit(.minutes(1)))
struct OneBotAuthTests {
    let selfID: Int64 = 3_847_291_056

    func withHub(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, _ in try await body(port) }
    }

    /// A WebSocket upgrade request to a OneBot path; returns the HTTP status and body.
    func upgrade(port: Int, path: String = "/onebot/v11/ws", headers: [(String, String)]) async throws -> (UInt, String) {
        try await webSocketUpgrade(port: port, path: path, headers: headers)
    }

    @Test func reverseWebSocketHandshakeVerdicts() async throws {
        try await withHub { (port: Int) async throws in
            let id = ("X-Self-ID", String(selfID))
            #expect(try await upgrade(port: port, headers: [id]).0 == 401)
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "Bearer ")]).0 == 401)
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "Bearer wrong")]).0 == 403)
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "Basic dXNlcjpwdw==")]).0 == 403)
            #expect(try await upgrade(port: port, path: "/onebot/v11/ws?access_token=wrong", headers: [id]).0 == 403)
            #expect(try await upgrade(port: port, headers: [("Authorization", "Bearer \(TestHub.token)")]).0 == 400)
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "Bearer \(TestHub.token)"), ("X-Client-Role", "Robot")]).0 == 400)
            let (status, body) = try await upgrade(port: port, headers: [id])
            #expect(status == 401)
            #expect(body.contains("\"error\""))
            // The right token upgrades, whatever the scheme's case, and also from the query.
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "Token \(TestHub.token)")]).0 == 101)
            #expect(try await upgrade(port: port, headers: [id, ("Authorization", "bearer \(TestHub.token)"), ("X-Client-Role", "Api")]).0 == 101)
            #expect(try await upgrade(port: port, path: "/onebot/v11/ws?access_token=\(TestHub.token)", headers: [id]).0 == 101)
            #expect(try await upgrade(port: port, path: "/api/v1/qq/websocket", headers: [id, ("Authorization", "Token \(TestHub.token)")]).0 == 101)
        }
    }

    @Test func realWebSocketClientIsRefusedWithAWrongToken() async throws {
        try await withHub { (port: Int) async throws in
            let bot = FakeOneBot(selfID: selfID)
            await #expect(throws: (any Error).self) {
                try await bot.connect(port: port, authorization: "Bearer nope")
            }
            #expect(!bot.isConnected)
        }
    }

    func post(_ port: Int, _ headers: [(String, String)], body: String = Self.heartbeat, method: HTTPMethod = .POST) async throws -> UInt {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/onebot/v11/http")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Connection", value: "close")
        request.body = .bytes(ByteBuffer(string: body))
        return try await HTTPClient.shared.execute(request, timeout: .seconds(5)).status.code
    }

    static let heartbeat = #"{"time":1717000000,"self_id":3847291056,"post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":5000}"#

    @Test func httpPostSignatureVerdicts() async throws {
        try await withHub { (port: Int) async throws in
            let body = Self.heartbeat
            let id = ("X-Self-ID", String(selfID))
            let good = Signature.sign(Array(body.utf8), secret: TestHub.secret)
            #expect(try await post(port, [id, ("X-Signature", good)]) == 204)
            #expect(try await post(port, [id, ("X-Signature", good.uppercased().replacingOccurrences(of: "SHA1=", with: "sha1="))]) == 204)
            #expect(try await post(port, [id]) == 401)
            #expect(try await post(port, [id, ("X-Signature", "sha1=" + String(repeating: "0", count: 40))]) == 403)
            #expect(try await post(port, [id, ("X-Signature", "md5=abc")]) == 403)
            // The signature covers the raw bytes: the same JSON re-serialised does not match.
            let spaced = body.replacingOccurrences(of: ",", with: ", ")
            #expect(try await post(port, [id, ("X-Signature", good)], body: spaced) == 403)
            #expect(try await post(port, [("X-Signature", good)]) == 400)
            #expect(try await post(port, [id, ("X-Signature", good)], method: .GET) == 405)
            for bad in ["", "not json", "[1]", #"{"no_post_type":1}"#] {
                #expect(try await post(port, [id, ("X-Signature", Signature.sign(Array(bad.utf8), secret: TestHub.secret))], body: bad) == 400)
            }
        }
    }
}
