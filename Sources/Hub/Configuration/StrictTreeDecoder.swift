// SPDX-License-Identifier: Apache-2.0

/// A strict `Decoder` over a ``ConfigurationNode`` tree that knows where it is.
///
/// - Unknown keys are errors, anywhere (a key is known when the container's `CodingKeys` accepts it).
/// - Scalars are typed per key (``ConfigurationScalar``); a wrong type is an error naming the key path.
/// - Every scalar reachable through mappings (not inside a list) is first looked up in the environment as
///   `HUB_<PATH>` (``ConfigurationPath/environmentName``), present in the file or not.
/// - An absent ``ConfigurationSection`` is decoded from an empty mapping so overrides of its keys apply.
///
/// ```swift
/// let root = try ConfigurationNode.parse(yaml: text, environment: env)
/// let configuration = try StrictTreeDecoder(environment: env).decode(HubConfiguration.self, from: root)
/// ```
struct StrictTreeDecoder {
    var environment: [String: String]
    /// Told every mapping decoded and the keys it accepts (``ConfigurationKeyCensus``); nil: none.
    var census: ConfigurationKeyCensus?

    init(environment: [String: String], census: ConfigurationKeyCensus? = nil) {
        self.environment = environment
        self.census = census
    }

    /// Decodes `type` from `root` (`nil`: no document at all).
    func decode<T: Decodable>(_ type: T.Type, from root: ConfigurationNode?) throws -> T {
        let decoder = TreeDecoder(node: root, path: ConfigurationPath(), environment: environment, census: census)
        do {
            return try decoder.decodeValue(T.self)
        } catch let error as DecodingError {
            throw ConfigurationError(decodingError: error)
        }
    }
}

// MARK: - Decoder

private struct TreeDecoder: Decoder {
    /// `nil`: the value is absent.
    let node: ConfigurationNode?
    let path: ConfigurationPath
    let environment: [String: String]
    let census: ConfigurationKeyCensus?

    var codingPath: [any CodingKey] { path.codingKeys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func child(_ node: ConfigurationNode?, at path: ConfigurationPath) -> TreeDecoder {
        TreeDecoder(node: node, path: path, environment: environment, census: census)
    }

    /// Decodes a value here: scalars directly, everything else through `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        guard let scalarType = T.self as? any ConfigurationScalar.Type else {
            return try T(from: self)
        }
        guard let node, case .scalar(let text) = node.value, let value = scalarType.init(configurationText: text) else {
            throw ConfigurationError.typeMismatch(at: path, expected: scalarType.expectation, found: node)
        }
        return value as! T  // `value` was made by `T.self`
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let entries: [ConfigurationNode.Entry]
        switch node?.value {
        case nil, .null?: entries = []
        case .mapping(let mapping)?: entries = mapping
        default: throw ConfigurationError.typeMismatch(at: path, expected: "a mapping", found: node)
        }
        census?.record(path, keys: Key.self is any CaseIterable.Type ? knownKeys(Key.self) : nil)
        for entry in entries where Key(stringValue: entry.key) == nil {
            throw ConfigurationError.unknownKey(
                at: path.appending(entry.key),
                line: entry.keyLine,
                suggestion: closestKey(to: entry.key, among: knownKeys(Key.self))
            )
        }
        return KeyedDecodingContainer(MappingContainer<Key>(entries: entries, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch node?.value {
        case nil, .null?: return SequenceContainer(elements: [], decoder: self)
        case .sequence(let elements)?: return SequenceContainer(elements: elements, decoder: self)
        default: throw ConfigurationError.typeMismatch(at: path, expected: "a list", found: node)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ScalarContainer(decoder: self)
    }
}

// MARK: - Mapping

private struct MappingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: [ConfigurationNode.Entry]
    let decoder: TreeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    private func path(_ key: Key) -> ConfigurationPath {
        decoder.path.appending(key.stringValue)
    }

    private func node(_ key: Key) -> ConfigurationNode? {
        entries.first { $0.key == key.stringValue }?.node
    }

    private func overrideText(at path: ConfigurationPath) -> (variable: String, text: String)? {
        guard let variable = path.environmentName, let text = decoder.environment[variable], !text.isEmpty else { return nil }
        return (variable, text)
    }

    /// The environment override for a scalar key, typed; `nil` when there is none or `T` is not a scalar.
    private func overrideValue<T>(_ type: T.Type, at path: ConfigurationPath) throws -> T? {
        guard let scalarType = T.self as? any ConfigurationScalar.Type, let (variable, text) = overrideText(at: path) else {
            return nil
        }
        guard let value = scalarType.init(configurationText: text) else {
            throw ConfigurationError.invalidEnvironment(variable: variable, path: path, expected: scalarType.expectation, found: text)
        }
        return value as? T
    }

    func contains(_ key: Key) -> Bool {
        overrideText(at: path(key)) != nil || node(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        overrideText(at: path(key)) == nil && (node(key)?.isNull ?? true)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let path = path(key)
        if let value = try overrideValue(T.self, at: path) { return value }
        guard let node = node(key), !node.isNull else {
            throw ConfigurationError.missingKey(at: path, line: decoder.node?.line)
        }
        return try decoder.child(node, at: path).decodeValue(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let path = path(key)
        if let value = try overrideValue(T.self, at: path) { return value }
        if let node = node(key), !node.isNull {
            return try decoder.child(node, at: path).decodeValue(T.self)
        }
        if T.self is any ConfigurationSection.Type, path.environmentName != nil {
            // Absent section: decode its defaults so overrides of its keys apply.
            return try decoder.child(nil, at: path).decodeValue(T.self)
        }
        return nil
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type as Bool.Type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type as String.Type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type as Double.Type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(type as Float.Type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type as Int.Type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(type as Int8.Type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(type as Int16.Type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type as Int32.Type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type as Int64.Type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(type as UInt.Type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(type as UInt8.Type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type as UInt16.Type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type as UInt32.Type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type as UInt64.Type, key) }

    /// Routes the primitive overloads to the generic `decode(_:forKey:)`.
    private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try decode(type, forKey: key) as T
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(node(key), at: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(node(key), at: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(node(key), at: path(key))
    }
}

// MARK: - List

private struct SequenceContainer: UnkeyedDecodingContainer {
    let elements: [ConfigurationNode]
    let decoder: TreeDecoder
    private(set) var currentIndex = 0

    init(elements: [ConfigurationNode], decoder: TreeDecoder) {
        self.elements = elements
        self.decoder = decoder
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func nextDecoder() throws -> TreeDecoder {
        let path = decoder.path.appending(index: currentIndex)
        guard !isAtEnd else {
            throw ConfigurationError.missingKey(at: path, line: decoder.node?.line)
        }
        defer { currentIndex += 1 }
        return decoder.child(elements[currentIndex], at: path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try nextDecoder().decodeValue(T.self)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: String.Type) throws -> String { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try nextDecoder().decodeValue(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try nextDecoder().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try nextDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try nextDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try nextDecoder()
    }
}

// MARK: - Scalar

private struct ScalarContainer: SingleValueDecodingContainer {
    let decoder: TreeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        decoder.node?.isNull ?? true
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeValue(type) }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeValue(type) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeValue(type) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.decodeValue(type) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeValue(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeValue(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeValue(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeValue(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeValue(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeValue(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeValue(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeValue(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeValue(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeValue(type) }
}

// MARK: - Helpers

/// The keys a `CodingKeys` enum accepts, when it is `CaseIterable`.
private func knownKeys<Key: CodingKey>(_ type: Key.Type) -> [String] {
    guard let iterable = Key.self as? any CaseIterable.Type else { return [] }
    return caseNames(iterable)
}

private func caseNames<Cases: CaseIterable>(_ type: Cases.Type) -> [String] {
    type.allCases.compactMap { ($0 as? any CodingKey)?.stringValue }
}

/// The known key closest to a misspelled one, when it is close enough to be a likely typo.
private func closestKey(to key: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(key.lowercased(), $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 3) else { return nil }
    return best.0
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions
/// ("modles" → "models" is one edit).
private func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs.unicodeScalars)
    let b = Array(rhs.unicodeScalars)
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in stride(from: 1, through: a.count, by: 1) {
        for j in stride(from: 1, through: b.count, by: 1) {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                best = min(best, table[i - 2][j - 2] + 1)
            }
            table[i][j] = best
        }
    }
    return table[a.count][b.count]
}
