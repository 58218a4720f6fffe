// SPDX-License-Identifier: Apache-2.0
import Engine

/// One OneBot 11 message segment: `{"type": …, "data": {…}}`.
///
/// The data keeps its parameters in order (as they appeared in a CQ code, or sorted by key when they
/// came from a JSON object) so that `CQ string → segments → CQ string` reproduces the input. Values
/// stay JSON: implementations send `at.qq` as a number, NapCat sends `json.data` as an object.
public struct OneBotSegment: Sendable, Hashable {
    /// The segment type (`text`, `at`, `reply`, `image`, … or anything an implementation invents).
    public var type: String
    /// The parameters, in order. Null values are kept out.
    public var data: [(key: String, value: JSONValue)]

    public init(type: String, data: [(key: String, value: JSONValue)] = []) {
        self.type = type
        self.data = data.filter { !$0.value.isNull }
    }

    /// The first value under `key` (duplicate keys: the first occurrence wins).
    public subscript(key: String) -> JSONValue? {
        data.first(where: { $0.key == key })?.value
    }

    /// A text segment.
    public static func text(_ text: String) -> OneBotSegment {
        OneBotSegment(type: "text", data: [("text", .string(text))])
    }

    /// The text of a `text` segment, nil for every other type.
    public var text: String? {
        type == "text" ? (self["text"]?.stringValue ?? "") : nil
    }

    public static func == (lhs: OneBotSegment, rhs: OneBotSegment) -> Bool {
        lhs.type == rhs.type && lhs.data.count == rhs.data.count
            && zip(lhs.data, rhs.data).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        for field in data {
            hasher.combine(field.key)
            hasher.combine(field.value)
        }
    }
}

extension OneBotSegment {
    /// Decodes a segment from its JSON form; nil when `value` is not an object with a string `type`.
    public init?(json value: JSONValue) {
        guard let object = value.objectValue, let type = object["type"]?.stringValue else { return nil }
        let data = object["data"]?.objectValue ?? [:]
        self.init(type: type, data: data.keys.sorted().map { ($0, data[$0]!) })
    }

    /// The JSON form, `{"type": …, "data": {…}}`.
    public var json: JSONValue {
        var fields = [String: JSONValue]()
        for field in data where fields[field.key] == nil { fields[field.key] = field.value }
        return .object(["type": .string(type), "data": .object(fields)])
    }
}
