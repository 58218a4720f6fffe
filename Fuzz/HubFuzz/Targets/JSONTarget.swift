// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

extension FuzzTarget {
    /// The hub's JSON parser (every OneBot frame and upstream body goes through it) and its compact
    /// writer, whose output is the key of de-duplication: the same value must always give it.
    static let json = FuzzTarget(name: "json", summary: "JSONValue(parsing:) and compactJSON") { bytes in
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let compact = value.compactJSON
        guard let again = try? JSONValue(parsing: compact) else {
            expect(false, "the compact form of a parsed value does not parse: \(compact.debugDescription)")
            return
        }
        expect(again.compactJSON == compact, "compactJSON is not stable for \(compact.debugDescription)")
        _ = value.textValue
        _ = value.int64Value
        _ = value.boolValue
        // The Codable path (provider extras, stored values) must not trap on the same input either.
        _ = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }
}
