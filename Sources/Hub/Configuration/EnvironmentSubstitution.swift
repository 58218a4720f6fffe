// SPDX-License-Identifier: Apache-2.0
import Foundation

/// `${VAR}` and `${VAR:-default}` in configuration scalars, taken from the environment.
///
/// - `${VAR}` becomes the variable's value, or nothing when unset. A scalar that is exactly `${VAR}` with
///   `VAR` unset counts as absent, so optional keys (secrets) stay unset rather than empty.
/// - `${VAR:-default}` becomes `default` when `VAR` is unset or empty.
/// - `$${` is a literal `${`; any other `$` is kept as is.
///
/// YAML does not allow `{` and `}` in plain scalars inside flow collections, so
/// `admin: { api_key: ${HUB_ADMIN_API_KEY} }` would not parse. ``protect(_:)`` therefore swaps every
/// reference for a placeholder of private-use characters before parsing, and ``Placeholders/restore(_:)``
/// puts the reference back into each scalar, before ``expand(_:environment:)``. Values from the
/// environment never pass through the YAML parser, so they cannot change the document's structure.
enum EnvironmentSubstitution {
    /// The references taken out of a YAML text by ``protect(_:)``.
    struct Placeholders: Sendable {
        fileprivate static let open: Unicode.Scalar = "\u{E000}"
        fileprivate static let close: Unicode.Scalar = "\u{E001}"
        fileprivate static let padding: Unicode.Scalar = "\u{E002}"

        fileprivate(set) var references: [String] = []

        /// `text` with every placeholder replaced by the reference it stands for.
        func restore(_ text: String) -> String {
            guard !references.isEmpty, text.unicodeScalars.contains(Self.open) else { return text }
            var output = String.UnicodeScalarView()
            var digits: String?
            for scalar in text.unicodeScalars {
                if scalar == Self.open {
                    digits = ""
                } else if scalar == Self.close, let index = digits.flatMap({ Int($0) }), references.indices.contains(index) {
                    output.append(contentsOf: references[index].unicodeScalars)
                    digits = nil
                } else if digits != nil {
                    if scalar != Self.padding { digits?.unicodeScalars.append(scalar) }
                } else {
                    output.append(scalar)
                }
            }
            return String(output)
        }
    }

    /// Replaces each `${…}` (and `$${…}`) on one line with a placeholder of the same length where possible,
    /// so line and column numbers of YAML errors stay right.
    static func protect(_ yaml: String) -> (text: String, placeholders: Placeholders) {
        var placeholders = Placeholders()
        let reserved = Placeholders.open.value...Placeholders.padding.value
        guard yaml.contains("${"), !yaml.unicodeScalars.contains(where: { reserved.contains($0.value) }) else {
            return (yaml, placeholders)
        }
        let scalars = Array(yaml.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "$" {
                var brace = index + 1
                if brace < scalars.count, scalars[brace] == "$" { brace += 1 }
                if brace < scalars.count, scalars[brace] == "{" {
                    var end = brace + 1
                    while end < scalars.count, scalars[end] != "}", scalars[end] != "\n" { end += 1 }
                    if end < scalars.count, scalars[end] == "}" {
                        let reference = String(String.UnicodeScalarView(scalars[index...end]))
                        let number = String(placeholders.references.count)
                        placeholders.references.append(reference)
                        let padding = max(0, (end - index + 1) - number.unicodeScalars.count - 2)
                        output.append(Placeholders.open)
                        output.append(contentsOf: number.unicodeScalars)
                        output.append(contentsOf: repeatElement(Placeholders.padding, count: padding))
                        output.append(Placeholders.close)
                        index = end + 1
                        continue
                    }
                }
            }
            output.append(scalars[index])
            index += 1
        }
        return (String(output), placeholders)
    }

    struct Failure: Error, Sendable {
        let message: String
    }

    /// - Returns: The expanded text, or `nil` when `text` is exactly `${VAR}` and `VAR` is unset.
    static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String? {
        guard text.contains("$") else { return text }
        if text.hasPrefix("${"), text.hasSuffix("}") {
            let body = text.dropFirst(2).dropLast()
            if isVariableName(body), environment[String(body)] == nil { return nil }
        }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "$", text[next...].hasPrefix("${") {
                output += "${"
                index = text.index(next, offsetBy: 2)
                continue
            }
            guard character == "$", next < text.endIndex, text[next] == "{" else {
                output.append(character)
                index = next
                continue
            }
            let bodyStart = text.index(after: next)
            guard let close = text[bodyStart...].firstIndex(of: "}") else {
                throw Failure(message: "unterminated \"${\" in \(ConfigurationNode.quoted(text))")
            }
            let body = text[bodyStart..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard isVariableName(name) else {
                throw Failure(message: "invalid variable reference \"${\(body)}\"; use ${NAME} or ${NAME:-default}")
            }
            let value = environment[String(name)] ?? ""
            if let fallback, value.isEmpty {
                output += fallback
            } else {
                output += value
            }
            index = text.index(after: close)
        }
        return output
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`
    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar == "_" || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
        }
    }
}
