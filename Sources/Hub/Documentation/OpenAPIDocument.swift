// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Yams

/// The hub's OpenAPI 3.1 document (`Resources/openapi.yaml`, compiled into the binary), read once
/// into an ordered tree: served as YAML and JSON, rendered as the `/docs` page, and compared with
/// the router by `OpenAPICoverageTests`.
///
/// ```swift
/// let document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
/// for operation in document.operations where operation.isWebSocket { print(operation.path) }
/// ```
struct OpenAPIDocument: Sendable {
    /// The document as written, compiled into the binary.
    static let embeddedYAML = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)

    /// One HTTP method on one path.
    struct Operation: Sendable, Hashable {
        /// Lower case, as the document spells it: `get`, `post`, …
        let method: String
        /// As written in the document, parameters in braces: `/api/v1/task/status/{task_id}`.
        let path: String
        /// Marked `x-websocket: true`: a WebSocket endpoint answering `101`.
        let isWebSocket: Bool
        /// The operation object itself.
        let value: OpenAPIValue
    }

    /// The methods an OpenAPI path item may hold, in the order the page shows them.
    static let methods = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]

    let root: OpenAPIValue

    /// Reads `yaml`; throws when it is not YAML or not a mapping with `openapi` and `paths`.
    init(yaml: String) throws {
        guard let node = try Yams.compose(yaml: yaml) else { throw Malformed("the document is empty") }
        root = try OpenAPIValue(node)
        guard root["openapi"]?.string != nil, root["paths"]?.entries != nil else {
            throw Malformed("the document has no `openapi` version or no `paths`")
        }
    }

    /// Every operation, in the document's order.
    var operations: [Operation] {
        (root["paths"]?.entries ?? []).flatMap { path, item in
            Self.methods.compactMap { method -> Operation? in
                guard let operation = item[method] else { return nil }
                return Operation(method: method, path: path, isWebSocket: operation["x-websocket"]?.bool == true, value: operation)
            }
        }
    }

    /// The value a local reference (`#/components/schemas/Name`) points at; nil when it points nowhere.
    func resolve(_ reference: String) -> OpenAPIValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: OpenAPIValue? = root
        for part in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            value = value?[key]
        }
        return value
    }

    /// The value itself, or what its `$ref` points at (one level).
    func dereferenced(_ value: OpenAPIValue) -> OpenAPIValue {
        guard let reference = value["$ref"]?.string, let target = resolve(reference) else { return value }
        return target
    }

    /// The document as JSON (keys in the document's order).
    var json: String { root.json }

    /// Why a document could not be read.
    struct Malformed: Error, Sendable, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// A YAML value of the document with its mappings' order kept (JSON's types, plus that order).
enum OpenAPIValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([OpenAPIValue])
    /// A mapping, in the order written; keys are strings.
    case object([Entry])

    struct Entry: Sendable, Hashable {
        let key: String
        let value: OpenAPIValue
    }

    /// Reads a composed YAML node: quoted scalars are strings; plain ones null, booleans, integers
    /// or numbers when YAML's resolver says so; mapping keys must be scalars.
    init(_ node: Node) throws {
        switch node {
        case .scalar(let scalar):
            self = Self.scalar(scalar, tag: Resolver.default.resolveTag(of: node))
        case .mapping(let mapping):
            var entries = [Entry]()
            for pair in mapping {
                guard case .scalar(let key) = pair.key else { throw OpenAPIDocument.Malformed("a mapping key is not a scalar") }
                entries.append(Entry(key: key.string, value: try OpenAPIValue(pair.value)))
            }
            self = .object(entries)
        case .sequence(let sequence):
            self = .array(try sequence.map { try OpenAPIValue($0) })
        case .alias:
            throw OpenAPIDocument.Malformed("an unresolved alias")
        }
    }

    private static func scalar(_ scalar: Node.Scalar, tag: Tag.Name) -> OpenAPIValue {
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch tag {
        case .null: return .null
        case .bool: return Bool.construct(from: scalar).map(OpenAPIValue.bool) ?? .string(text)
        case .int: return Int.construct(from: scalar).map(OpenAPIValue.int) ?? .string(text)
        case .float:
            guard let number = Double.construct(from: scalar), number.isFinite else { return .string(text) }
            return .double(number)
        default: return .string(text)
        }
    }

    /// The value under `key` of a mapping.
    subscript(key: String) -> OpenAPIValue? {
        guard case .object(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// A mapping's entries, in order.
    var entries: [(key: String, value: OpenAPIValue)]? {
        guard case .object(let entries) = self else { return nil }
        return entries.map { ($0.key, $0.value) }
    }

    var array: [OpenAPIValue]? {
        if case .array(let items) = self { items } else { nil }
    }

    var string: String? {
        if case .string(let text) = self { text } else { nil }
    }

    var bool: Bool? {
        if case .bool(let flag) = self { flag } else { nil }
    }

    /// A scalar as text (`1`, `0.25`, `true`, `null`); nil for arrays and mappings.
    var scalarText: String? {
        switch self {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .string(let text): text
        case .array, .object: nil
        }
    }

    // MARK: JSON

    /// The value as compact JSON, keys in order.
    var json: String {
        var text = ""
        writeJSON(into: &text)
        return text
    }

    func writeJSON(into text: inout String) {
        switch self {
        case .null, .bool, .int: text += scalarText ?? "null"
        case .double(let number): text += String(number)
        case .string(let string): text += JSONValue.string(string).compactJSON
        case .array(let items):
            text += "["
            for (index, item) in items.enumerated() {
                if index > 0 { text += "," }
                item.writeJSON(into: &text)
            }
            text += "]"
        case .object(let entries):
            text += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { text += "," }
                text += JSONValue.string(entry.key).compactJSON
                text += ":"
                entry.value.writeJSON(into: &text)
            }
            text += "}"
        }
    }
}
