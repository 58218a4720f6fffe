// SPDX-License-Identifier: Apache-2.0

/// A type read from one scalar of text, in the YAML file or in an environment override.
///
/// ``StrictTreeDecoder`` reads these types itself (rather than through `init(from:)`), which is what lets
/// `HUB_SERVER_PORT=9000` be typed like `port: 9000` and lets errors say what was expected.
protocol ConfigurationScalar {
    /// What a valid value looks like, for errors: `an integer`, `one of per_user, per_group`.
    static var expectation: String { get }

    /// Parses the text, or returns `nil` when it is not a valid value.
    init?(configurationText text: String)
}

extension String: ConfigurationScalar {
    static var expectation: String { "a string" }

    init?(configurationText text: String) {
        self = text
    }
}

extension Bool: ConfigurationScalar {
    static var expectation: String { "a boolean (true or false)" }

    init?(configurationText text: String) {
        switch text.trimmedForConfiguration.lowercased() {
        case "true", "yes", "on", "1": self = true
        case "false", "no", "off", "0": self = false
        default: return nil
        }
    }
}

extension Double: ConfigurationScalar {
    static var expectation: String { "a number" }

    init?(configurationText text: String) {
        guard let value = Double(text.trimmedForConfiguration), value.isFinite else { return nil }
        self = value
    }
}

extension Float: ConfigurationScalar {
    static var expectation: String { "a number" }

    init?(configurationText text: String) {
        guard let value = Float(text.trimmedForConfiguration), value.isFinite else { return nil }
        self = value
    }
}

/// The largest magnitude an integer setting may have (2^40): beyond it a value is refused, so no
/// sum or product the hub makes of settings (turns × 2, seconds × 1000) can overflow and trap.
let largestConfigurationInteger: UInt64 = 1 << 40

extension ConfigurationScalar where Self: FixedWidthInteger {
    static var expectation: String { "an integer (magnitude at most 2^40)" }

    init?(configurationText text: String) {
        guard let value = Self(text.trimmedForConfiguration, radix: 10), UInt64(value.magnitude) <= largestConfigurationInteger else { return nil }
        self = value
    }
}

extension Int: ConfigurationScalar {}
extension Int8: ConfigurationScalar {}
extension Int16: ConfigurationScalar {}
extension Int32: ConfigurationScalar {}
extension Int64: ConfigurationScalar {}
extension UInt: ConfigurationScalar {}
extension UInt8: ConfigurationScalar {}
extension UInt16: ConfigurationScalar {}
extension UInt32: ConfigurationScalar {}
extension UInt64: ConfigurationScalar {}

/// String enums (`per_user`, `round_robin`) read case-insensitively.
extension ConfigurationScalar where Self: RawRepresentable & CaseIterable, RawValue == String {
    static var expectation: String {
        "one of " + allCases.map(\.rawValue).joined(separator: ", ")
    }

    init?(configurationText text: String) {
        self.init(rawValue: text.trimmedForConfiguration.lowercased())
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (environment values often carry a newline).
    var trimmedForConfiguration: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
