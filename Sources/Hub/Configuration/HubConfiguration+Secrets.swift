// SPDX-License-Identifier: Apache-2.0
import Foundation

extension HubConfiguration {
    /// Every secret the configuration holds: each ``Secret`` (tokens, keys, signing secrets) and
    /// the password of every URL that carries one (`redis://:pw@…`, a provider's `base_url`).
    /// ``RecentLogs`` cuts these out of what it keeps.
    ///
    /// Found by encoding the configuration (each ``Secret`` hands its value to the collector the
    /// encoder carries) and reading every string of the result, so a secret added to any section
    /// later is covered without a change here. Not by runtime reflection: `Mirror` over the
    /// configuration crashed once inside the Swift runtime while many hubs started at once.
    var secretValues: [String] {
        let collector = SecretCollector()
        let encoder = JSONEncoder()
        encoder.userInfo[SecretCollector.key] = collector
        var found = Set<String>()
        if let data = try? encoder.encode(self), let tree = try? JSONSerialization.jsonObject(with: data) {
            Self.collectURLPasswords(in: tree, into: &found)
        }
        found.formUnion(collector.values)
        return found.filter { !$0.isEmpty }.sorted()
    }

    private static func collectURLPasswords(in value: Any, into found: inout Set<String>) {
        switch value {
        case let text as String:
            if let password = urlPassword(text) { found.insert(password) }
        case let list as [Any]:
            for element in list { collectURLPasswords(in: element, into: &found) }
        case let object as [String: Any]:
            for element in object.values { collectURLPasswords(in: element, into: &found) }
        default:
            break
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

/// Gathers the values of the ``Secret``s an encoder meets, when the encoder carries it in its
/// `userInfo` under ``key`` (only ``HubConfiguration/secretValues`` does); what is encoded stays
/// the mask.
final class SecretCollector: @unchecked Sendable {
    static let key = CodingUserInfoKey(rawValue: "hub.secretCollector")!
    private(set) var values: Set<String> = []

    func add(_ value: String) {
        values.insert(value)
    }
}
