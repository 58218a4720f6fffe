// SPDX-License-Identifier: Apache-2.0

/// Why a provider could not answer.
///
/// A struct over a private enum, so new kinds can be added without breaking callers.
public struct ChatProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The family of failure.
    public enum Kind: String, Sendable, Hashable {
        /// The upstream answered with an HTTP error status.
        case httpStatus
        /// No answer within the deadline.
        case timeout
        /// Could not connect, or the connection broke.
        case transport
        /// The answer was not the JSON or SSE it should be.
        case malformedResponse
        /// The request was refused before it was sent (no such model, nothing configured).
        case notConfigured
    }

    public let kind: Kind
    /// The HTTP status, for ``Kind/httpStatus``.
    public let status: Int?
    /// A `Retry-After` the upstream sent, in seconds (``RetryAfter/bounded(_:)``: finite, 0 to a day).
    public let retryAfter: Double?
    /// A short human-readable detail (never contains secrets).
    public let message: String

    public init(kind: Kind, status: Int? = nil, retryAfter: Double? = nil, message: String) {
        self.kind = kind
        self.status = status
        self.retryAfter = retryAfter.flatMap(RetryAfter.bounded)
        self.message = message
    }

    public var description: String {
        if let status { return "\(kind.rawValue) \(status): \(message)" }
        return "\(kind.rawValue): \(message)"
    }

    public static func timeout(_ message: String) -> Self { Self(kind: .timeout, message: message) }
    public static func transport(_ message: String) -> Self { Self(kind: .transport, message: message) }
    public static func malformed(_ message: String) -> Self { Self(kind: .malformedResponse, message: message) }
    public static func notConfigured(_ message: String) -> Self { Self(kind: .notConfigured, message: message) }
}
