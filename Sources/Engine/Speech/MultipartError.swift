// SPDX-License-Identifier: Apache-2.0

/// Why a `multipart/form-data` body was refused by ``MultipartFormParser``.
///
/// Errors compare by their reason (`error == .missingFinalDelimiter`); ``message`` says more, for
/// the client that sent the body.
public struct MultipartError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Reason: Hashable {
        case notFormData
        case missingBoundary
        case invalidBoundary
        case missingFirstDelimiter
        case missingFinalDelimiter
        case tooManyParts
        case headersTooLarge
        case malformedHeader
        case missingName
    }

    private let reason: Reason
    /// What is wrong, in words fit for a `400 Bad Request`.
    public let message: String

    private init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// The media type is not `multipart/form-data`.
    public static let notFormData = Self(.notFormData, "the content type is not multipart/form-data")
    /// The content type has no `boundary` parameter.
    public static let missingBoundary = Self(.missingBoundary, "the content type has no boundary")
    /// The boundary is empty, longer than 70 characters, or has characters RFC 2046 does not allow.
    public static let invalidBoundary = Self(.invalidBoundary, "the boundary is not a valid RFC 2046 boundary")
    /// The body does not contain the boundary's first delimiter line.
    public static let missingFirstDelimiter = Self(.missingFirstDelimiter, "the body does not start with the boundary")
    /// The body ends without the close delimiter (`--boundary--`).
    public static let missingFinalDelimiter = Self(.missingFinalDelimiter, "the body ends without its final boundary")
    /// More parts than the parser's limit.
    public static let tooManyParts = Self(.tooManyParts, "the form has too many parts")
    /// A part's headers are longer than the parser's limit, or do not end with an empty line.
    public static let headersTooLarge = Self(.headersTooLarge, "a part's headers are too long")
    /// A part's header is not `Name: value` text, or its content disposition is not `form-data`.
    public static let malformedHeader = Self(.malformedHeader, "a part has a malformed header")
    /// A part's content disposition has no `name`.
    public static let missingName = Self(.missingName, "a part has no name")

    /// The same reason with a more precise message.
    func detailed(_ message: String) -> Self { Self(reason, message) }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.reason == rhs.reason }
    public func hash(into hasher: inout Hasher) { hasher.combine(reason) }

    public var description: String { message }
}
