// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird

extension Request {
    /// The token of an `Authorization: Bearer <token>` header (scheme in any case), nil without one.
    public var bearerToken: String? {
        guard let header = headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
