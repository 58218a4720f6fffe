// SPDX-License-Identifier: Apache-2.0

/// Where a ``RedisClient`` connects and how patient it is.
///
/// ```swift
/// let configuration = try RedisConfiguration(url: "redis://:secret@127.0.0.1:6379/2")
/// ```
public struct RedisConfiguration: Sendable, Hashable {
    /// TCP host and port, or a Unix socket path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }
    }

    public var endpoint: Endpoint
    /// ACL user for `AUTH user password` (Redis 6+); nil for `AUTH password`.
    public var username: String?
    /// Sent with `AUTH` after connecting; never logged.
    public var password: String?
    /// Selected after connecting when not 0.
    public var database: Int
    /// Connections kept open; commands are pipelined on them round-robin.
    public var poolSize: Int
    public var connectTimeout: Duration
    /// Longest wait for one reply (or one pipeline's replies).
    public var commandTimeout: Duration
    /// First pause between reconnect attempts; it doubles (with jitter) up to ``longestBackoff``.
    public var firstBackoff: Duration
    public var longestBackoff: Duration
    /// A connection whose oldest unanswered request has waited this long is passed over for the
    /// next (it is stalled on its own: Redis answers in microseconds).
    public var stalledAfter: Duration = .milliseconds(100)

    public init(
        endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0, poolSize: Int = 2,
        connectTimeout: Duration = .seconds(1), commandTimeout: Duration = .milliseconds(500),
        firstBackoff: Duration = .milliseconds(100), longestBackoff: Duration = .seconds(5)
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.firstBackoff = firstBackoff
        self.longestBackoff = max(firstBackoff, longestBackoff)
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]` (user and password percent-decoded, IPv6 hosts
    /// in brackets) and `unix:///path/to/socket[?db=N]`.
    public init(url: String) throws(RedisError) {
        self.init(endpoint: .tcp(host: "127.0.0.1", port: 6379))
        let lowered = url.lowercased()
        if lowered.hasPrefix("unix://") {
            let rest = url.dropFirst("unix://".count)
            let (path, query) = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).twoParts
            guard path.hasPrefix("/") else { throw .invalidURL("a unix:// URL needs an absolute socket path") }
            endpoint = .unixSocket(path: String(path))
            for pair in (query ?? "").split(separator: "&") {
                let (name, value) = pair.split(separator: "=", maxSplits: 1).twoParts
                if name == "db" { database = try Self.database(value ?? "") }
            }
            return
        }
        guard lowered.hasPrefix("redis://") else {
            throw .invalidURL("expected redis://host:port/db or unix:///path (rediss:// TLS is not supported)")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        let (authority, path) = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).twoParts
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let (user, password) = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).twoParts
            if let password {
                self.username = user.isEmpty ? nil : try Self.percentDecoded(user)
                self.password = try Self.percentDecoded(password)
            } else if !user.isEmpty {
                // `redis://secret@host`: a lone user-info part is the password, as redis-cli reads it.
                self.password = try Self.percentDecoded(user)
            }
        }
        var host = Substring("127.0.0.1")
        var port = 6379
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in the host") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst()) } else if !after.isEmpty { throw .invalidURL("unexpected text after the host") }
        } else if !hostPort.isEmpty {
            let (name, portText) = hostPort.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).twoParts
            if !name.isEmpty { host = name }
            if let portText { port = try Self.port(portText) }
        }
        endpoint = .tcp(host: String(host), port: port)
        if let path, !path.isEmpty { database = try Self.database(path) }
    }

    private static func port(_ text: Substring) throws(RedisError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw .invalidURL("port \"\(text)\" is not 1…65535") }
        return port
    }

    private static func database(_ text: Substring) throws(RedisError) -> Int {
        guard let number = Int(text), number >= 0 else { throw .invalidURL("database \"\(text)\" is not a number ≥ 0") }
        return number
    }

    private static func percentDecoded(_ text: Substring) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes = [UInt8]()
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw .invalidURL("bad percent-encoding in the credentials")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Array where Element == Substring {
    /// The first element and, when there is one, the second.
    fileprivate var twoParts: (Substring, Substring?) {
        (first ?? "", count > 1 ? self[1] : nil)
    }
}
