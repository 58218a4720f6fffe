// SPDX-License-Identifier: Apache-2.0

/// A parsed `ws://host:port/path` or `http://host:port/path` URL. TLS (`wss://`, `https://`) is
/// not supported: the benchmark runs on loopback and TLS would measure the cipher rather than
/// the hub.
struct Endpoint: Sendable, CustomStringConvertible {
    /// `ws` or `http`.
    var scheme: String
    var host: String
    var port: Int
    /// Path plus query, starting with `/`.
    var path: String

    /// - Parameter scheme: the one scheme the caller speaks (`ws` or `http`).
    init(url: String, scheme: String = "ws") throws {
        let prefix = scheme + "://"
        guard url.hasPrefix(prefix) else {
            throw LoadRunError.badURL(url, "only \(prefix) URLs are supported")
        }
        self.scheme = scheme
        let rest = url.dropFirst(prefix.count)
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
            throw LoadRunError.badURL(url, "expected \(prefix)host:port/path")
        }
    }

    /// The value of the `Host` request header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    var description: String { "\(scheme)://\(hostHeader)\(path)" }
}
