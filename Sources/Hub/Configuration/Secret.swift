// SPDX-License-Identifier: Apache-2.0

/// A configuration value that must never reach a log: an API key, a token, a signing secret.
///
/// Printing, interpolating, dumping or encoding a `Secret` gives `****` (or `(empty)` when the value is
/// empty); only ``value`` gives the real text.
///
/// ```swift
/// let key = Secret("sk-123")
/// print("key: \(key)")          // key: ****
/// request.headers.add(name: "Authorization", value: "Bearer \(key.value)")
/// ```
struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The real value. Never log it.
    let value: String

    init(_ value: String) {
        self.value = value
    }

    var isEmpty: Bool { value.isEmpty }

    /// `****`, or `(empty)` for an empty secret.
    var description: String { value.isEmpty ? "(empty)" : "****" }

    var debugDescription: String { description }

    /// No children, so `dump` and reflection-based printing show the mask only.
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the mask, never the value (an encoder carrying a ``SecretCollector`` is handed the
    /// value beside it, for ``HubConfiguration/secretValues``).
    func encode(to encoder: any Encoder) throws {
        (encoder.userInfo[SecretCollector.key] as? SecretCollector)?.add(value)
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Secret: ConfigurationScalar {
    static var expectation: String { "a string" }

    init?(configurationText text: String) {
        self.init(text)
    }
}

extension Optional where Wrapped == Secret {
    /// `nil` for an empty secret: an empty token or key means "not configured".
    var nonEmpty: Secret? {
        guard let secret = self, !secret.isEmpty else { return nil }
        return secret
    }
}
