// SPDX-License-Identifier: Apache-2.0
import Crypto
import Engine
import Foundation

/// Token and signature checks shared by the doors (OneBot, web chat). Comparisons run in constant time.
/// Package-visible for the fuzz target.
package enum AccessCredentials {
    package enum Verdict: Equatable {
        case ok, missing, wrong
    }

    /// Checks an `Authorization` header (`Bearer`/`Token`, any case) or an `access_token` query
    /// parameter against `expected`. With no token expected, anything passes.
    package static func check(authorization: String?, query: String?, expected: String?) -> Verdict {
        guard let expected, !expected.isEmpty else { return .ok }
        var presented: String?
        if let authorization {
            let trimmed = authorization.trimmingCharacters(in: " \t")
            if let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) {
                let scheme = trimmed[..<space].lowercased()
                let token = String(trimmed[space...]).trimmingCharacters(in: " \t")
                // Another scheme (Basic, Digest) carries no access token: it can only be wrong.
                presented = scheme == "bearer" || scheme == "token" ? token : "\u{0}"
            } else if trimmed.lowercased() != "bearer", trimmed.lowercased() != "token" {
                presented = trimmed
            }
            if presented?.isEmpty == true { presented = nil }
        }
        if presented == nil, let token = queryValue("access_token", in: query), !token.isEmpty {
            presented = token
        }
        guard let presented else { return .missing }
        return ConstantTime.equal(presented, expected) ? .ok : .wrong
    }

    /// Verifies `X-Signature: sha1=<hex>` over the raw body with HMAC-SHA1(secret).
    package static func checkSignature(_ header: String?, body: some Collection<UInt8>, secret: String) -> Verdict {
        guard let header = header?.trimmingCharacters(in: " \t"), !header.isEmpty else { return .missing }
        guard header.lowercased().hasPrefix("sha1="), let presented = hexBytes(String(header.dropFirst(5))), presented.count == 20
        else { return .wrong }
        var mac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: Array(secret.utf8)))
        mac.update(data: Array(body))
        let expected = Array(mac.finalize())
        return ConstantTime.equal(presented, expected) ? .ok : .wrong
    }

    /// The `sha1=<hex>` signature of `body` (what an implementation sends).
    package static func signature(body: some Collection<UInt8>, secret: String) -> String {
        var mac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: Array(secret.utf8)))
        mac.update(data: Array(body))
        return "sha1=" + Hex.string(mac.finalize())
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The first value of `name` in a URL query string, percent-decoded.
    static func queryValue(_ name: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first.map(String.init) == name else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            return value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
        }
        return nil
    }
}
