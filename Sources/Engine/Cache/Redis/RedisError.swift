// SPDX-License-Identifier: Apache-2.0

/// What can go wrong talking to Redis. The messages never contain a password.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No connection is up (Redis down or restarting); the caller should fall back at once.
    case unavailable(String)
    /// Connecting failed or took longer than the connect timeout.
    case connectFailed(String)
    /// The server refused the password (or the user).
    case authenticationFailed(String)
    /// `SELECT` was refused: the database number does not exist on the server.
    case invalidDatabase(Int, String)
    /// The command got no reply within its timeout; the connection is closed and reopened.
    case timeout(command: String)
    /// The connection closed before the reply came.
    case connectionClosed
    /// The server sent bytes that are not RESP; the connection is closed.
    case protocolError(String)
    /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`).
    case server(String)
    /// The URL is not `redis://[[user]:password@]host[:port][/db]` or `unix:///path`.
    case invalidURL(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "Redis unavailable: \(why)"
        case .connectFailed(let why): "cannot connect to Redis: \(why)"
        case .authenticationFailed(let message): "Redis refused the credentials: \(message)"
        case .invalidDatabase(let number, let message): "Redis refused database \(number): \(message)"
        case .timeout(let command): "Redis did not answer \(command) in time"
        case .connectionClosed: "the Redis connection closed before the reply"
        case .protocolError(let why): "Redis protocol error: \(why)"
        case .server(let message): "Redis error: \(message)"
        case .invalidURL(let why): "invalid Redis URL: \(why)"
        }
    }
}
