// SPDX-License-Identifier: Apache-2.0
import Crypto
import Foundation

/// Signs bodies the way OneBot implementations do: `sha1=<hex HMAC-SHA1(secret, body)>`.
enum Signature {
    static func sign(_ body: [UInt8], secret: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
