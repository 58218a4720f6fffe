// SPDX-License-Identifier: Apache-2.0
import Yams

/// The configuration file as a tree, after YAML parsing and `${VAR}` substitution: what
/// ``StrictTreeDecoder`` walks. Every scalar is kept as text; the decoder types it per key.
struct ConfigurationNode: Sendable {
    /// A mapping entry, in file order.
    struct Entry: Sendable {
        let key: String
        let keyLine: Int?
        let node: ConfigurationNode
    }

    enum Value: Sendable {
        /// `~`, `null`, an empty value, or exactly `${VAR}` with `VAR` unset: treated as absent.
        case null
        case scalar(String)
        case mapping([Entry])
        case sequence([ConfigurationNode])
    }

    let value: Value
    /// The 1-based line in the file.
    let line: Int?

    init(_ value: Value, line: Int? = nil) {
        self.value = value
        self.line = line
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// The entry under `key` when this is a mapping.
    func entry(_ key: String) -> Entry? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.first { $0.key == key }
    }

    /// How a value is shown in a type error: `"abc"`, `null`, `a mapping`, `a list`, `nothing`.
    static func summary(of node: ConfigurationNode?) -> String {
        switch node?.value {
        case nil: "nothing"
        case .null?: "null"
        case .scalar(let text)?: quoted(text)
        case .mapping?: "a mapping"
        case .sequence?: "a list"
        }
    }

    /// `text` in double quotes, shortened to 60 characters.
    static func quoted(_ text: String) -> String {
        let shown = text.count > 60 ? text.prefix(57) + "..." : Substring(text)
        var escaped = ""
        for character in shown {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}

// MARK: - Building from YAML

extension ConfigurationNode {
    /// Plain scalars that YAML reads as null.
    private static let nullSpellings: Set<String> = ["", "~", "null", "Null", "NULL"]

    /// The most values (scalars, mappings, lists) a document may hold once its aliases are expanded.
    /// Far more than a configuration needs; without a bound, a few hundred bytes of nested aliases
    /// (`b: [*a, *a, …]`, `c: [*b, *b, …]`, …) expand to billions of values and hang the loader.
    static let maxValues = 50_000

    /// Parses YAML text into a tree, substituting `${VAR}` and `${VAR:-default}` in every scalar.
    ///
    /// - Returns: `nil` for an empty document (no text, only comments).
    /// - Throws: ``ConfigurationError`` with the line for a syntax error, or naming the key for a bad
    ///   `${…}` reference; a syntax error for a document of more than ``maxValues`` values.
    static func parse(yaml: String, environment: [String: String]) throws -> ConfigurationNode? {
        let (protected, placeholders) = EnvironmentSubstitution.protect(yaml)
        let root: Node?
        do {
            root = try Yams.compose(yaml: protected)
        } catch let error as YamlError {
            throw ConfigurationError(yamlError: error)
        }
        guard let root else { return nil }
        var budget = maxValues
        return try ConfigurationNode(root, path: ConfigurationPath(), placeholders: placeholders, environment: environment, budget: &budget)
    }

    /// - Parameter budget: How many more values may be built; each node takes one.
    private init(
        _ node: Node, path: ConfigurationPath, placeholders: EnvironmentSubstitution.Placeholders, environment: [String: String], budget: inout Int
    ) throws {
        let line = node.mark?.line
        budget -= 1
        guard budget >= 0 else {
            throw ConfigurationError.syntax("more than \(Self.maxValues) values once aliases are expanded", line: line, column: node.mark?.column)
        }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, Self.nullSpellings.contains(scalar.string) {
                self.init(.null, line: line)
                return
            }
            let expanded: String?
            do {
                expanded = try EnvironmentSubstitution.expand(placeholders.restore(scalar.string), environment: environment)
            } catch {
                throw ConfigurationError.invalidValue(at: path.description, error.message, line: line)
            }
            self.init(expanded.map(Value.scalar) ?? .null, line: line)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigurationError.invalidValue(at: path.description, "mapping keys must be strings", line: key.mark?.line)
                }
                let name = placeholders.restore(keyScalar.string)
                let child = try ConfigurationNode(
                    value, path: path.appending(name), placeholders: placeholders, environment: environment, budget: &budget)
                entries.append(Entry(key: name, keyLine: key.mark?.line, node: child))
            }
            self.init(.mapping(entries), line: line)
        case .sequence(let sequence):
            var elements: [ConfigurationNode] = []
            for (index, element) in sequence.enumerated() {
                elements.append(
                    try ConfigurationNode(
                        element, path: path.appending(index: index), placeholders: placeholders, environment: environment, budget: &budget)
                )
            }
            self.init(.sequence(elements), line: line)
        case .alias(let alias):
            // `compose` resolves aliases; an unresolved one is a broken document.
            throw ConfigurationError.syntax("unresolved alias", line: alias.mark?.line, column: alias.mark?.column)
        }
    }
}

extension ConfigurationError {
    /// Converts a Yams error into a syntax error that carries the line.
    init(yamlError error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            self = .syntax(detail, line: mark.line, column: mark.column)
        case .reader(let problem, let offset, _, let yaml):
            let line = offset.map { offset in yaml.utf8.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } }
            self = .syntax(problem, line: line, column: nil)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            self = .syntax("duplicate key \(keys) in one mapping", line: context.mark.line, column: context.mark.column)
        default:
            self = .syntax(String(describing: error), line: nil, column: nil)
        }
    }
}
