// SPDX-License-Identifier: Apache-2.0
import Adapters

extension FuzzTarget {
    /// What a web chat client sends: a WebSocket text frame, the same bytes as a REST body
    /// (`POST /api/chat`), and as the path of a chat WebSocket upgrade.
    static let webChatFrame = FuzzTarget(name: "webchat-frame", summary: "web chat client frames and REST bodies: WebChatInbound") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let limit = 256
        if let message = try? WebChatInbound(frame: text, maxBytes: limit, makeID: { "made-up" }) {
            expect(message.text.utf8.count <= limit && !message.id.isEmpty, "a frame past the checks breaks them")
        }
        if let wire = try? WebChatInbound.Wire.decode(bytes),
            let message = try? WebChatInbound(wire: wire, textKey: .message, requiringType: false, maxBytes: limit, makeID: { "made-up" })
        {
            expect(message.text.utf8.count <= limit && !message.id.isEmpty, "a REST body past the checks breaks them")
        }
        if case .success(let id)? = WebChatHandshake.clientID(inPath: text) {
            expect(WebChatDoor.isValidClientID(id), "an accepted client id is invalid")
        }
    }
}
