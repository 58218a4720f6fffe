// SPDX-License-Identifier: Apache-2.0

/// Why images could not be generated: a ``ServiceFailure``, whose kind decides what
/// ``ImageGenerationRouter`` does next, as it does for the speech routers.
public typealias ImageError = ServiceFailure

extension ServiceFailure {
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
