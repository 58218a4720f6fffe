// SPDX-License-Identifier: Apache-2.0
import Foundation

extension HubConfiguration {
    /// Every secret the configuration holds: each ``Secret`` (tokens, keys, signing secrets) and
    /// the password of every URL that carries one (`redis://:pw@…`, a provider's `base_url`).
    /// ``RecentLogs`` cuts these out of what it keeps.
    ///
    /// Found by walking the configuration's values, so a secret added to any section later is
    /// covered without a change here.
    var secretValues: [String] {
        var found = Set<String>()
        Self.collectSecrets(in: self, into: &found, depth: 0)
        return found.filter { !$0.isEmpty }.sorted()
    }

    private static func collectSecrets(in value: Any, into found: inout Set<String>, depth: Int) {
        guard depth < 12 else { return }
        if let secret = value as? Secret {
            found.insert(secret.value)
            return
        }
        if let text = value as? String {
            if let password = urlPassword(text) { found.insert(password) }
            return
        }
        for child in Mirror(reflecting: value).children {
            collectSecrets(in: child.value, into: &found, depth: depth + 1)
        }
    }

    /// The password in `scheme://user:password@host…`, nil when there is none.
    static func urlPassword(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return userInfo.isEmpty ? nil : String(userInfo) }
        let password = userInfo[userInfo.index(after: colon)...]
        return password.isEmpty ? nil : String(password)
    }
}
