// SPDX-License-Identifier: Apache-2.0

/// Why speech could not be synthesized or recognized. The kind decides what the speech routers do
/// next, as ``ChatProviderError``'s does for the LLM router.
public struct SpeechError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The provider did not answer in time.
        case timeout
        /// The connection failed or broke.
        case transport
        /// The provider answered with an HTTP error status (see ``status``).
        case httpStatus
        /// The provider's answer could not be used (not audio, not JSON, empty).
        case malformed
        /// The caller's input cannot be used by anyone: undecodable or oversized audio, empty text.
        case badInput
        /// This provider cannot do what was asked (a voice, a language, a format it lacks); another may.
        case unsupported
        /// Nothing is configured that could do it.
        case notConfigured
        /// Too much speech work is queued (the `cpu` lane, a provider's pool); try again shortly.
        case busy
    }

    public var kind: Kind
    public var status: Int?
    /// Seconds the provider asked to wait (HTTP `Retry-After`).
    public var retryAfter: Double?
    public var message: String

    public init(kind: Kind, status: Int? = nil, retryAfter: Double? = nil, message: String) {
        self.kind = kind
        self.status = status
        self.retryAfter = retryAfter
        self.message = message
    }

    public static func timeout(_ message: String) -> Self { .init(kind: .timeout, message: message) }
    public static func transport(_ message: String) -> Self { .init(kind: .transport, message: message) }
    public static func malformed(_ message: String) -> Self { .init(kind: .malformed, message: message) }
    public static func badInput(_ message: String) -> Self { .init(kind: .badInput, message: message) }
    public static func unsupported(_ message: String) -> Self { .init(kind: .unsupported, message: message) }
    public static func busy(_ message: String) -> Self { .init(kind: .busy, message: message) }

    public var description: String {
        if let status { return "\(kind.rawValue) \(status): \(message)" }
        return "\(kind.rawValue): \(message)"
    }
}
