// SPDX-License-Identifier: Apache-2.0

/// Where a value sits in the configuration: `llm.providers[0].models[1].name`.
///
/// The path also names the value's environment override: `HUB_` + the keys upper-cased and joined by `_`
/// (`chat.history.max_turns` → `HUB_CHAT_HISTORY_MAX_TURNS`). Values inside lists have no override.
struct ConfigurationPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    private(set) var components: [Component] = []

    init() {}

    var isRoot: Bool { components.isEmpty }

    func appending(_ key: String) -> ConfigurationPath {
        var path = self
        path.components.append(.key(key))
        return path
    }

    func appending(index: Int) -> ConfigurationPath {
        var path = self
        path.components.append(.index(index))
        return path
    }

    /// `server.port`, `llm.providers[0].name`; empty at the root.
    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                text += text.isEmpty ? key : ".\(key)"
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    /// The environment variable that overrides the value here, or `nil` at the root and inside lists.
    var environmentName: String? {
        guard !components.isEmpty else { return nil }
        var parts: [String] = []
        for component in components {
            guard case .key(let key) = component else { return nil }
            parts.append(String(key.uppercased().unicodeScalars.map { scalar -> Character in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
            }))
        }
        return "HUB_" + parts.joined(separator: "_")
    }

    /// The path as coding keys, for `Decoder.codingPath`.
    var codingKeys: [any CodingKey] {
        components.map { component in
            switch component {
            case .key(let key): ConfigurationCodingKey(key)
            case .index(let index): ConfigurationCodingKey(index: index)
            }
        }
    }

    /// Rebuilds a path from a coding path (e.g. from a `DecodingError`).
    init(codingPath: [any CodingKey]) {
        for key in codingPath {
            if let key = key as? ConfigurationCodingKey, key.isIndex, let index = key.intValue {
                components.append(.index(index))
            } else {
                components.append(.key(key.stringValue))
            }
        }
    }
}

/// A coding key for ``ConfigurationPath``: a mapping key or a list index.
struct ConfigurationCodingKey: CodingKey, Sendable {
    let stringValue: String
    let intValue: Int?
    let isIndex: Bool

    init(_ key: String) {
        stringValue = key
        intValue = nil
        isIndex = false
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
        isIndex = true
    }

    init?(stringValue: String) {
        self.init(stringValue)
    }

    init?(intValue: Int) {
        self.init(index: intValue)
    }
}
