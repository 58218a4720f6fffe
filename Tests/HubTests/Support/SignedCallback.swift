// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Posts events to the hub's OneBot HTTP door as go-cqhttp and NapCat do: JSON, `X-Self-ID`, and
/// `X-Signature` over the body with ``TestHub/secret``.
enum SignedCallback {
    /// POSTs `body` to `path` on the hub at `port`; the status. `signature` replaces the right one.
    static func post(
        port: Int, path: String = "/onebot/v11/http", selfID: String, body: String, signature: String? = nil,
        timeout: TimeAmount = .seconds(5)
    ) async throws -> UInt {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Self-ID", value: selfID)
        request.headers.add(name: "X-Signature", value: signature ?? Signature.sign(Array(body.utf8), secret: TestHub.secret))
        request.body = .bytes(ByteBuffer(string: body))
        return try await HTTPClient.shared.execute(request, timeout: timeout).status.code
    }
}
