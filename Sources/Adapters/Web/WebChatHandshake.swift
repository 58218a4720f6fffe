// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Foundation

/// The checks on a chat WebSocket upgrade, all made before upgrading: the path names a valid
/// client id, the token matches (`Authorization: Bearer` or `?access_token=`, since browsers cannot
/// set headers on a WebSocket), the page's `Origin` is allowed.
public struct WebChatHandshake: Sendable {
    /// Why an upgrade was refused: the HTTP status and a message for the JSON body.
    public struct Rejected: Error, Sendable, Hashable {
        public let status: HTTPResponse.Status
        public let message: String
    }

    /// The chat WebSocket paths, each followed by `/{client_id}`. The short alias never takes
    /// `voice`, which belongs to the voice door.
    public static let pathPrefixes = ["/ws/chat/", "/ws/"]
    static let reservedAliasIDs: Set<String> = ["voice", "chat"]

    let accessToken: String?
    /// Lower-cased allowed origins, without trailing slashes.
    let allowedOrigins: Set<String>
    let allowsAnyOrigin: Bool

    init(accessToken: String?, allowedOrigins: [String]) {
        self.accessToken = accessToken
        let normalized = allowedOrigins.map { Self.normalize($0) }
        self.allowedOrigins = Set(normalized)
        self.allowsAnyOrigin = normalized.contains("*")
    }

    /// The client id a chat WebSocket path names; nil when the path is not a chat WebSocket path.
    /// An invalid id is `.failure`.
    public static func clientID(inPath path: String) -> Result<String, Rejected>? {
        let route = String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        for prefix in pathPrefixes where route.hasPrefix(prefix) {
            var id = String(route.dropFirst(prefix.count))
            if id.hasSuffix("/") { id.removeLast() }
            if prefix == "/ws/", reservedAliasIDs.contains(id) || id.hasPrefix("chat/") { return nil }
            guard !id.contains("/") else { return nil }
            guard WebChatDoor.isValidClientID(id) else {
                return .failure(Rejected(status: .badRequest, message: "client id must be 1 to 64 letters, digits, '-' or '_'"))
            }
            return .success(id)
        }
        return nil
    }

    /// Checks the token; nil when it is fine.
    func checkToken(authorization: String?, query: String?) -> Rejected? {
        switch AccessCredentials.check(authorization: authorization, query: query, expected: accessToken) {
        case .ok: return nil
        case .missing: return Rejected(status: .unauthorized, message: "access token required (Authorization: Bearer … or ?access_token=)")
        case .wrong: return Rejected(status: .forbidden, message: "access token does not match")
        }
    }

    /// Checks the page's origin against the hub's own (`host`, the Host header) and the allowed
    /// list; nil when it is fine. No `Origin` at all, or a `ws(s)://` one (a program, not a page;
    /// browsers send the page's `http(s)` origin and scripts cannot change it), is fine.
    func checkOrigin(_ origin: String?, host: String?) -> Rejected? {
        guard let origin, !origin.isEmpty else { return nil }
        if allowsAnyOrigin { return nil }
        let normalized = Self.normalize(origin)
        // Pages send `http(s)://…` (or `null`); a `ws(s)://` origin comes from a program's client.
        if normalized.hasPrefix("ws://") || normalized.hasPrefix("wss://") { return nil }
        if allowedOrigins.contains(normalized) { return nil }
        if let host, let schemeEnd = normalized.range(of: "://") {
            let scheme = normalized[..<schemeEnd.lowerBound]
            let originHost = Self.withoutDefaultPort(String(normalized[schemeEnd.upperBound...]), scheme: String(scheme))
            if originHost == Self.withoutDefaultPort(host.lowercased(), scheme: String(scheme)) { return nil }
        }
        return Rejected(status: .forbidden, message: "origin \(origin) is not allowed (web.allowed_origins)")
    }

    private static func normalize(_ origin: String) -> String {
        var value = origin.trimmingCharacters(in: " \t").lowercased()
        while value.hasSuffix("/") { value.removeLast() }
        return value
    }

    private static func withoutDefaultPort(_ host: String, scheme: String) -> String {
        let suffix = scheme == "https" || scheme == "wss" ? ":443" : ":80"
        return host.hasSuffix(suffix) ? String(host.dropLast(suffix.count)) : host
    }
}
