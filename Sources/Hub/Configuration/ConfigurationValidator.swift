// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Collects validation problems, each naming its key path; the sections' `validate(into:)` feed it.
struct ConfigurationValidator {
    private(set) var errors: [ConfigurationError] = []

    mutating func fail(_ path: String, _ message: String) {
        errors.append(.invalidValue(at: path, message))
    }

    mutating func require(_ condition: Bool, _ path: String, _ message: @autoclosure () -> String) {
        if !condition { fail(path, message()) }
    }

    mutating func positive(_ value: Int, _ path: String) {
        require(value > 0, path, "must be greater than 0, found \(value)")
    }

    /// The largest number of seconds (and the largest fractional number) a setting may hold: a
    /// year. Durations become milliseconds or nanoseconds in an Int64, where 1e300 would trap.
    static let largestSeconds: Double = 31_536_000

    mutating func positive(_ value: Double, _ path: String) {
        require(value > 0, path, "must be greater than 0, found \(value)")
        bounded(value, path)
    }

    /// Finite and at most ``largestSeconds``.
    mutating func bounded(_ value: Double, _ path: String) {
        require(value.isFinite && value <= Self.largestSeconds, path, "must be at most \(Int(Self.largestSeconds)), found \(value)")
    }

    mutating func nonNegative(_ value: Int, _ path: String) {
        require(value >= 0, path, "must not be negative, found \(value)")
    }

    mutating func nonNegative(_ value: Double, _ path: String) {
        require(value >= 0, path, "must not be negative, found \(value)")
        bounded(value, path)
    }

    mutating func nonEmpty(_ value: String, _ path: String) {
        require(!value.trimmedForConfiguration.isEmpty, path, "must not be empty")
    }

    /// An absolute `http` or `https` URL with a host.
    mutating func httpURL(_ value: String, _ path: String) {
        require(Self.isURL(value, schemes: ["http", "https"]), path, "expected an http or https URL, found \(ConfigurationNode.quoted(value))")
    }

    /// Names in a list must be non-empty and unique: `llm.providers[1].name: duplicate name "x" (also llm.providers[0].name)`.
    mutating func uniqueNames(_ names: [String], in list: String) {
        var seen: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            let path = "\(list)[\(index)].name"
            nonEmpty(name, path)
            if let first = seen[name] {
                fail(path, "duplicate name \(ConfigurationNode.quoted(name)) (also \(list)[\(first)].name)")
            } else {
                seen[name] = index
            }
        }
    }

    /// Throws the first problem found, if any.
    func throwIfInvalid() throws {
        if let first = errors.first { throw first }
    }

    static func isURL(_ value: String, schemes: Set<String>) -> Bool {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(), schemes.contains(scheme),
            let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
