// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// A request that offers an upgrade the hub does not speak (curl's `--http2` on `http://` sends
/// `Upgrade: h2c`) is answered as the plain request it also is, where it once got no answer at
/// all; the connection then closes, since the parser reads nothing after a request it was told is
/// an upgrade.
@Suite(.timeLimit(.minutes(1)))
struct ForeignUpgradeTests {
    @Test(arguments: [
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
        "Connection: upgrade\r\nUpgrade: TLS/1.2\r\n",
        "Upgrade: h2c\r\n",
    ])
    func anUpgradeOfferTheHubDoesNotSpeakIsAnsweredAsAPlainRequest(offer: String) async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            let answer = try await RawConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: x\r\n\(offer)\r\n")
            #expect(answer.status == 200, "\(answer)")
            #expect(answer.body.contains("ok"))
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }
}
