// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// Text frames must be UTF-8 (RFC 6455 §8.1): one that is not closes the connection with 1007 on
/// every WebSocket door, and the hub keeps serving.
@Suite(.timeLimit(.minutes(1)))
struct InvalidUTF8Tests {
    /// Byte sequences that are not UTF-8: an overlong "/", an encoded surrogate, a truncated
    /// three-byte sequence, and a lone continuation byte.
    static let invalid: [[UInt8]] = [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x7B, 0x22, 0xE2, 0x82], [0x80]]

    @Test(arguments: ["/onebot/v11/ws", "/ws/chat/utf8-client"], [0, 1, 2, 3])
    func aTextFrameThatIsNotUTF8ClosesWith1007(path: String, sample: Int) async throws {
        try await FakeUpstream().run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                let peer = try await StalledOneBotPeer.connect(port: port, selfID: 3_847_291_056, path: path, receiveBuffer: 65_536)
                try await peer.send(bytes: Self.invalid[sample])
                try await peer.resumeReading()
                try await peer.waitUntilClosed(timeout: .seconds(10))
                #expect(peer.closeCode == 1007)
                // The hub goes on serving.
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }
}
