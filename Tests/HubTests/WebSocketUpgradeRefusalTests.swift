// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// A WebSocket handshake with a wrong version or key gets an answer on every WebSocket door, as
/// RFC 6455 §4.2.1 asks, where NIO's upgrader closed it silently: 426 with
/// `Sec-WebSocket-Version: 13` for a version other than 13 (or none), 400 for a missing or
/// malformed `Sec-WebSocket-Key`, each with the hub's JSON error and the connection closed.
@Suite(.timeLimit(.minutes(1)))
struct WebSocketUpgradeRefusalTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    /// The two doors, with the headers each needs to upgrade.
    static let doors: [(path: String, headers: String)] = [
        ("/onebot/v11/ws", "X-Self-ID: 3847291056\r\nX-Client-Role: Universal\r\nAuthorization: Bearer \(TestHub.token)\r\n"),
        ("/ws/chat/refusal-client", ""),
    ]

    /// Handshake fields, and the status they get.
    static let handshakes: [(name: String, fields: String, status: Int)] = [
        ("version 8", "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: \(key)\r\n", 426),
        ("no version", "Sec-WebSocket-Key: \(key)\r\n", 426),
        ("two versions", "Sec-WebSocket-Version: 13, 8\r\nSec-WebSocket-Key: \(key)\r\n", 426),
        ("no key", "Sec-WebSocket-Version: 13\r\n", 400),
        ("a key that is not base64", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not a key!\r\n", 400),
        ("a key of 15 bytes", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n", 400),
        ("two keys", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Key: \(key)\r\n", 400),
    ]

    static func request(door: Int, fields: String, port: Int) -> String {
        "GET \(doors[door].path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + doors[door].headers + fields + "\r\n"
    }

    @Test(arguments: 0..<doors.count)
    func aBadHandshakeIsAnsweredAndClosed(door: Int) async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                for handshake in Self.handshakes {
                    let what = "\(Self.doors[door].path), \(handshake.name)"
                    let answer = try await RawConnection.exchange(port: port, Self.request(door: door, fields: handshake.fields, port: port))
                    #expect(answer.status == handshake.status, "\(what): \(answer)")
                    #expect(answer.isClosingJSONError, "\(what): \(answer)")
                    if handshake.status == 426 {
                        #expect(answer.header("sec-websocket-version") == "13", "\(what)")
                    }
                }
                // The same request with a sound handshake upgrades: only the field made the difference.
                let sound = try await RawConnection.open(port: port)
                await sound.send(Self.request(door: door, fields: "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(Self.key)\r\n", port: port))
                try await eventually("the upgrade's answer") { sound.received.contains("\r\n\r\n") }
                #expect(sound.received.hasPrefix("HTTP/1.1 101"), "\(sound.received.prefix(120))")
                sound.close()
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }
}
