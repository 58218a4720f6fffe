// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import NIOCore
import NIOHTTP1

/// A web chat page on the hub's chat WebSocket (`/ws/chat/{client_id}`): one user per connection.
///
/// The hub greets a connection with `{"type":"history",…}`. A message is
/// `{"type":"message","id":"<sequence>","text":"bench message <sequence>"}`; its answer streams
/// back as `delta` frames and ends with `done`, or with `error` when it was refused. Every
/// answer frame names the message's `id`, so answers are matched exactly.
struct WebChatDialect: ClientDialect {
    /// The client id, the last path segment of the URL.
    let clientID: String

    var name: String { "client \(clientID)" }
    var localUserCount: Int { 1 }
    var awaitsGreeting: Bool { true }

    func path(base: String) -> String {
        (base.hasSuffix("/") ? base : base + "/") + clientID
    }

    /// `Authorization: Bearer` when the web door has an access token.
    func handshakeHeaders(token: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return headers
    }

    func openingFrame() -> String? { nil }
    func heartbeatFrame(intervalMilliseconds: Int) -> String? { nil }

    func eventFrame(user: Int, sequence: Int) -> String {
        #"{"type":"message","id":"\#(sequence)","text":"bench message \#(sequence)"}"#
    }

    mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> ServerMessage {
        guard let typeRange = JSONScan.rawValue(forKey: "type", in: bytes),
              let type = JSONScan.stringContents(typeRange, in: bytes)
        else { return ServerMessage(.ignored) }
        let sequence = JSONScan.rawValue(forKey: "id", in: bytes).flatMap { JSONScan.int64($0, in: bytes) }.map { Int($0) }
        switch JSONScan.string(type, in: bytes) {
        case "history":
            return ServerMessage(.greeting)
        case "delta":
            guard let sequence else { return ServerMessage(.unmatched) }
            return ServerMessage(.piece(user: 0, sequence: sequence))
        case "done":
            guard let sequence else { return ServerMessage(.unmatched) }
            return ServerMessage(.reply(user: 0, sequence: sequence))
        case "error":
            let reason = JSONScan.rawValue(forKey: "message", in: bytes)
                .map { JSONScan.string(JSONScan.stringContents($0, in: bytes) ?? $0, in: bytes) } ?? "error"
            guard let sequence else { return ServerMessage(.fault(reason)) }
            return ServerMessage(.refusal(user: 0, sequence: sequence, reason: reason))
        default:
            return ServerMessage(.other)
        }
    }
}

extension WebChatDialect {
    /// Web client `index`, whose id is `prefix` followed by the index.
    static func client(index: Int, prefix: String, timeout: UInt64, eventLoop: any EventLoop) -> SimulatedClient<WebChatDialect> {
        SimulatedClient(
            index: index, dialect: WebChatDialect(clientID: "\(prefix)\(index)"), timeout: timeout, heartbeatInterval: 0,
            eventLoop: eventLoop
        )
    }

    /// Checks that `prefix` followed by any of `clients` indices is a valid client id (1 to 64
    /// letters, digits, `-` and `_`).
    static func validate(prefix: String, clients: Int) throws {
        let allowed = prefix.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
        guard allowed, prefix.utf8.count + String(max(0, clients - 1)).count <= 64 else {
            throw ValidationError("--client-prefix: client ids are 1 to 64 letters, digits, '-' or '_'")
        }
    }
}
