// SPDX-License-Identifier: Apache-2.0

/// A mapping of the configuration whose keys all have defaults: `init()` is the all-defaults value.
///
/// When a section is absent from the file, ``StrictTreeDecoder`` still decodes it (from an empty
/// mapping), so that environment overrides of its keys apply: `HUB_CHAT_HISTORY_MAX_TURNS` works without
/// a `chat:` or `history:` in the file.
protocol ConfigurationSection: Sendable, Codable, Equatable {
    init()
}

extension KeyedDecodingContainerProtocol {
    /// The value under `key`, or `defaultValue` when it is absent or null.
    func decode<T: Decodable>(_ key: Key, default defaultValue: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? defaultValue()
    }
}
