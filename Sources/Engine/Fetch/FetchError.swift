// SPDX-License-Identifier: Apache-2.0

/// Why a guarded fetch was refused or ended.
public struct FetchError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Not an absolute http or https URL with a host.
        case invalidURL = "invalid_url"
        /// The name resolves to an address the policy forbids.
        case forbiddenAddress = "forbidden_address"
        /// The name does not resolve.
        case unresolvable
        case tooManyRedirects = "too_many_redirects"
        /// The body is larger than the policy's `maxBytes`.
        case tooLarge = "too_large"
        case timeout
        /// The server answered with an error status.
        case httpStatus = "http_status"
        /// The connection failed.
        case transport
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
