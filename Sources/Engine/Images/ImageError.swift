// SPDX-License-Identifier: Apache-2.0

/// Why images could not be generated. The kind decides what ``ImageGenerationRouter`` does next,
/// as ``SpeechError``'s does for the speech routers.
public struct ImageError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The provider did not answer in time.
        case timeout
        /// The connection failed or broke.
        case transport
        /// The provider answered with an HTTP error status (see ``ImageError/status``).
        case httpStatus
        /// The provider's answer could not be used: not JSON, no images, undecodable base64, bytes
        /// that are not an image, a result URL that cannot or may not be fetched.
        case malformed
        /// The request cannot be served by anyone: an empty prompt, a size or count out of bounds.
        case badInput
        /// This provider cannot do what was asked; another may.
        case unsupported
        /// No image generator is configured.
        case notConfigured
        /// Every configured generator is out of reach now (broken, saturated or out of rotation).
        case unavailable
        /// Too much image work is queued; try again shortly.
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

    /// The HTTP exchange's failure (shared with the speech clients) as an image failure.
    init(_ exchange: SpeechError) {
        let kind: Kind =
            switch exchange.kind {
            case .timeout: .timeout
            case .transport: .transport
            case .httpStatus: .httpStatus
            case .badInput: .badInput
            case .unsupported: .unsupported
            case .notConfigured: .notConfigured
            case .busy: .busy
            case .malformed: .malformed
            }
        self.init(kind: kind, status: exchange.status, retryAfter: exchange.retryAfter, message: exchange.message)
    }

    /// A failed fetch of a provider's result URL. The URL came from the provider, so whatever went
    /// wrong is the provider's failure: the router tries the next one.
    init(provider: String, fetch: FetchError) {
        switch fetch.kind {
        case .timeout: self = .timeout("\(provider): result URL: \(fetch)")
        case .transport, .httpStatus: self = .transport("\(provider): result URL: \(fetch)")
        case .invalidURL, .forbiddenAddress, .unresolvable, .tooManyRedirects, .tooLarge:
            self = .malformed("\(provider): result URL refused: \(fetch)")
        }
    }
}
