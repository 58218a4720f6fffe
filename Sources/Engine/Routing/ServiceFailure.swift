// SPDX-License-Identifier: Apache-2.0

/// Why a call to a speech or image service failed. Its kind decides what the provider routers do
/// next (``verdict``) and what the usage table records (``outcome(of:)``); the speech and image
/// routers share it as ``SpeechError`` and ``ImageError``, as the HTTP exchange beneath them is
/// one (``ServiceClient``).
public struct ServiceFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The provider did not answer in time.
        case timeout
        /// The connection failed or broke.
        case transport
        /// The provider answered with an HTTP error status (see ``ServiceFailure/status``).
        case httpStatus
        /// The provider's answer could not be used: not JSON, not audio, no images, undecodable
        /// base64, a result URL that cannot or may not be fetched.
        case malformed
        /// The caller's input cannot be used by anyone: undecodable or oversized audio, empty text,
        /// an empty prompt, a size or count out of bounds.
        case badInput
        /// This provider cannot do what was asked (a voice, a language, a format it lacks); another may.
        case unsupported
        /// Nothing is configured that could do it.
        case notConfigured
        /// Every configured provider is out of reach now (broken, saturated or out of rotation).
        case unavailable
        /// Too much work is queued (a lane, a provider's pool); try again shortly.
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
    public static func unavailable(_ message: String) -> Self { .init(kind: .unavailable, message: message) }
    public static func busy(_ message: String) -> Self { .init(kind: .busy, message: message) }

    public var description: String {
        if let status { return "\(kind.rawValue) \(status): \(message)" }
        return "\(kind.rawValue): \(message)"
    }

    /// What a failed attempt means for its route.
    public var verdict: FailureVerdict {
        switch kind {
        case .timeout, .transport, .malformed, .unavailable: .unhealthy
        case .badInput, .notConfigured: .callersFault
        // A provider's own pool is full, or it lacks what was asked: another may do it.
        case .unsupported, .busy: .elsewhere
        case .httpStatus:
            switch status ?? 500 {
            case 401, 403: .credentials
            case 408, 409, 425, 429, 500...599: .unhealthy
            // A voice, model, size or prompt this service refuses (policies differ): another may take it.
            default: .elsewhere
            }
        }
    }

    /// What a failed attempt means for its route; anything but a ``ServiceFailure`` is the provider's.
    static func verdict(of error: any Error) -> FailureVerdict {
        (error as? ServiceFailure)?.verdict ?? .unhealthy
    }

    /// `timeout`, `http_429`, `cancelled`, … for the usage table and metrics.
    public static func outcome(of error: any Error) -> String {
        guard let error = error as? ServiceFailure else { return error is CancellationError ? "cancelled" : "error" }
        if error.kind == .httpStatus, let status = error.status { return "http_\(status)" }
        return error.kind.rawValue
    }
}
