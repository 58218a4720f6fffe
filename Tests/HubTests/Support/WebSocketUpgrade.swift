// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Sends a WebSocket upgrade request and returns the HTTP status and body of the answer (101 when
/// the hub upgrades; a refusal's JSON otherwise).
///
/// Each request gets a connection of its own, as browsers and OneBot implementations open for
/// WebSockets: an upgrade request sent on a kept-alive HTTP connection is an ordinary request there.
func webSocketUpgrade(port: Int, path: String, headers: [(String, String)] = []) async throws -> (UInt, String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.headers.add(name: "Connection", value: "Upgrade")
    request.headers.add(name: "Upgrade", value: "websocket")
    request.headers.add(name: "Sec-WebSocket-Version", value: "13")
    request.headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let outcome: Result<(UInt, String), any Error>
    do {
        let response = try await client.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 16)
        outcome = .success((response.status.code, String(buffer: body)))
    } catch {
        outcome = .failure(error)
    }
    try await client.shutdown()
    return try outcome.get()
}
