// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird

/// The scheme and host a client used to reach the hub, for URLs the hub hands out (the voice
/// WebSocket in an OTA answer, the pictures of an image job): the first `X-Forwarded-Proto` and
/// `X-Forwarded-Host` a reverse proxy set, else the request's `Host`.
enum PublicOrigin {
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!

    /// `plain://host` or, when the first `X-Forwarded-Proto` is `https` or `wss`, `secure://host`;
    /// nil when no host is given or it holds characters a host cannot.
    static func origin(forwardedProto: String?, forwardedHost: String?, host: String?, plain: String, secure: String) -> String? {
        let proto = firstListValue(forwardedProto)?.lowercased()
        let scheme = proto == "https" || proto == "wss" ? secure : plain
        guard let authority = firstListValue(forwardedHost) ?? firstListValue(host), isValidAuthority(authority) else { return nil }
        return "\(scheme)://\(authority)"
    }

    /// `http(s)://host` for `request`.
    static func httpOrigin(of request: Request) -> String? {
        origin(
            forwardedProto: request.headers[forwardedProto], forwardedHost: request.headers[forwardedHost], host: request.head.authority,
            plain: "http", secure: "https")
    }

    /// The first element of a comma-separated header value, trimmed; nil when empty.
    static func firstListValue(_ value: String?) -> String? {
        guard let value else { return nil }
        let first = value.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = first.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A host name or address with an optional port: letters, digits, `.-_:[]`, at most 255 bytes.
    static func isValidAuthority(_ authority: String) -> Bool {
        authority.utf8.count <= 255
            && authority.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
                    true
                default:
                    false
                }
            }
    }
}
