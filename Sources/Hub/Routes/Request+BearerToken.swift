// SPDX-License-Identifier: Apache-2.0
import Hummingbird

extension Request {
    /// The token of an `Authorization: Bearer <token>` header (scheme in any case), nil without one.
    var bearerToken: String? {
        guard let header = headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
    }
}
