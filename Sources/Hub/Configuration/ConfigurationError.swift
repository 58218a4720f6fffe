// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A problem with the configuration: the file, its YAML syntax, an unknown key, a wrong type, an invalid
/// environment override or a value that fails validation.
///
/// The description names the key path and, when the problem comes from the file, its line:
/// `llm.providers[0].modles: unknown key, did you mean "models"? (line 12)`.
struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// What kind of problem this is. New codes may be added.
    struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case fileNotFound, unreadableFile, syntax, unknownKey, missingKey, typeMismatch, invalidEnvironment, invalidValue
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The configuration file named by `--config` / `HUB_CONFIG` does not exist.
        static let fileNotFound = Code(.fileNotFound)
        /// The configuration file exists but could not be read as UTF-8 text.
        static let unreadableFile = Code(.unreadableFile)
        /// The YAML is malformed (also duplicate keys in one mapping).
        static let syntax = Code(.syntax)
        /// A key that the schema does not know.
        static let unknownKey = Code(.unknownKey)
        /// A key without default is missing (e.g. a provider's `name`).
        static let missingKey = Code(.missingKey)
        /// A value of the wrong type (`port: abc`, a list where a mapping belongs).
        static let typeMismatch = Code(.typeMismatch)
        /// An environment override (`HUB_…`) whose value does not parse as the key's type.
        static let invalidEnvironment = Code(.invalidEnvironment)
        /// A well-typed value that fails validation (port out of range, bad URL, duplicate name, …).
        static let invalidValue = Code(.invalidValue)

        var description: String { base.rawValue }
    }

    /// The kind of problem.
    let code: Code
    /// The key path, e.g. `llm.providers[0].models[1].name`; `nil` for file and syntax problems.
    let path: String?
    /// What is wrong, without the path.
    let message: String
    /// The 1-based line in the YAML file, when known.
    let line: Int?
    /// The 1-based column in the YAML file, when known (syntax errors).
    let column: Int?

    init(code: Code, path: String?, message: String, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.path = (path?.isEmpty ?? true) ? nil : path
        self.message = message
        self.line = line
        self.column = column
    }

    var description: String {
        var text = path.map { "\($0): \(message)" } ?? message
        if let line {
            text += column.map { " (line \(line), column \($0))" } ?? " (line \(line))"
        }
        return text
    }

    var errorDescription: String? { description }
}

// MARK: - Factories

extension ConfigurationError {
    static func fileNotFound(_ file: String) -> ConfigurationError {
        ConfigurationError(code: .fileNotFound, path: nil, message: "configuration file not found: \(file)")
    }

    static func unreadableFile(_ file: String, reason: String) -> ConfigurationError {
        ConfigurationError(code: .unreadableFile, path: nil, message: "cannot read configuration file \(file): \(reason)")
    }

    static func syntax(_ problem: String, line: Int?, column: Int?) -> ConfigurationError {
        ConfigurationError(code: .syntax, path: nil, message: "YAML syntax error: \(problem)", line: line, column: column)
    }

    static func unknownKey(at path: ConfigurationPath, line: Int?, suggestion: String?) -> ConfigurationError {
        let message = suggestion.map { "unknown key, did you mean \"\($0)\"?" } ?? "unknown key"
        return ConfigurationError(code: .unknownKey, path: path.description, message: message, line: line)
    }

    static func missingKey(at path: ConfigurationPath, line: Int?) -> ConfigurationError {
        ConfigurationError(code: .missingKey, path: path.description, message: "required key is missing", line: line)
    }

    static func typeMismatch(at path: ConfigurationPath, expected: String, found node: ConfigurationNode?) -> ConfigurationError {
        ConfigurationError(
            code: .typeMismatch,
            path: path.isRoot ? "(top level)" : path.description,
            message: "expected \(expected), found \(ConfigurationNode.summary(of: node))",
            line: node?.line
        )
    }

    static func invalidEnvironment(variable: String, path: ConfigurationPath, expected: String, found: String) -> ConfigurationError {
        ConfigurationError(
            code: .invalidEnvironment,
            path: path.description,
            message: "expected \(expected), found \(ConfigurationNode.quoted(found)) in environment variable \(variable)"
        )
    }

    static func invalidValue(at path: String, _ message: String, line: Int? = nil) -> ConfigurationError {
        ConfigurationError(code: .invalidValue, path: path, message: message, line: line)
    }
}

extension ConfigurationError {
    /// Converts a `DecodingError` thrown by a type's own `init(from:)` into an error naming the key.
    init(decodingError error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = ConfigurationPath(codingPath: context.codingPath)
            self.init(code: .typeMismatch, path: path.description, message: context.debugDescription)
        case .keyNotFound(let key, let context):
            let path = ConfigurationPath(codingPath: context.codingPath + [key])
            self.init(code: .missingKey, path: path.description, message: "required key is missing")
        @unknown default:
            self.init(code: .typeMismatch, path: nil, message: String(describing: error))
        }
    }
}
