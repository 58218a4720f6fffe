// SPDX-License-Identifier: Apache-2.0

/// A parsed `ws://host:port/path` URL. TLS (`wss://`) is not supported: the benchmark runs on
/// loopback and TLS would measure the cipher rather than the hub.
struct WebSocketEndpoint: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    /// Path plus query, starting with `/`.
    var path: String

    init(url: String) throws {
        guard url.hasPrefix("ws://") else {
            throw LoadRunError.badURL(url, "only ws:// URLs are supported")
        }
        let rest = url.dropFirst("ws://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        self.path = path.isEmpty ? "/" : (path.hasPrefix("/") ? String(path) : "/" + path)
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            // [IPv6]:port
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let tail = authority[authority.index(after: close)...]
            port = tail.hasPrefix(":") ? Int(tail.dropFirst()) ?? -1 : 80
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty, (1...65_535).contains(port) else {
            throw LoadRunError.badURL(url, "expected ws://host:port/path")
        }
    }

    /// The value of the `Host` request header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    var description: String { "ws://\(hostHeader)\(path)" }
}
