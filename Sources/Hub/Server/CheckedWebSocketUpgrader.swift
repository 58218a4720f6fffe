// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's WebSocket upgrader behind a check of the handshake's own fields, so a bad handshake gets
/// an answer instead of a silent close.
///
/// `NIOTypedWebSocketServerUpgrader` gives up on a request whose `Sec-WebSocket-Version` is not 13
/// or that has no `Sec-WebSocket-Key` before it asks `shouldUpgrade`, and takes any key. This one
/// checks first, as RFC 6455 §4.2.1 asks: a version other than 13, or none, is refused 426 with
/// `Sec-WebSocket-Version: 13`; a key that is missing, repeated, or not 16 bytes in base64 is
/// refused 400. `refuse` records the refusal, which ``HubHTTPChannel`` writes once NIO has fallen
/// back to plain HTTP.
struct CheckedWebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    let base: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    let refuse: @Sendable (ClosingErrorResponse) -> Void

    var supportedProtocol: String { base.supportedProtocol }
    var requiredUpgradeHeaders: [String] { base.requiredUpgradeHeaders }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        if let refusal = Self.refusal(of: upgradeRequest.headers) {
            refuse(refusal)
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        return base.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        base.upgrade(channel: channel, upgradeRequest: upgradeRequest)
    }

    /// The answer to a handshake whose version or key is wrong; nil for a sound one.
    static func refusal(of headers: HTTPHeaders) -> ClosingErrorResponse? {
        let versions = headers[canonicalForm: "sec-websocket-version"]
        guard versions.count == 1, versions[0] == "13" else {
            return ClosingErrorResponse(
                .upgradeRequired, versions.isEmpty ? "Sec-WebSocket-Version is missing: 13 is required" : "WebSocket version 13 is required",
                headerFields: [.secWebSocketVersion: "13"])
        }
        let keys = headers[canonicalForm: "sec-websocket-key"]
        guard keys.count == 1, Data(base64Encoded: String(keys[0]))?.count == 16 else {
            return ClosingErrorResponse(
                .badRequest, keys.isEmpty ? "Sec-WebSocket-Key is missing" : "Sec-WebSocket-Key must be one 16-byte value in base64")
        }
        return nil
    }
}
