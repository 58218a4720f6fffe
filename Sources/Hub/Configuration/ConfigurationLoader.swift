// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Reads `hub.yaml` into a ``HubConfiguration``: file → YAML tree with `${VAR}` substituted → strict
/// decoding with `HUB_*` overrides → environment shortcuts (`OPENAI_*`, `HUB_LLM_MODEL`) → validation.
struct ConfigurationLoader {
    let environment: [String: String]

    init(environment: [String: String]) {
        self.environment = environment
    }

    /// - Parameter path: The file, or `nil` for none (defaults and environment only).
    func load(path: String?) throws -> HubConfiguration {
        guard let path else { return try parse(yaml: "") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError.fileNotFound(path)
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError.unreadableFile(path, reason: "it is a directory")
        }
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ConfigurationError.unreadableFile(path, reason: "not UTF-8 text")
            }
            text = decoded
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError.unreadableFile(path, reason: error.localizedDescription)
        }
        return try parse(yaml: text)
    }

    func parse(yaml: String) throws -> HubConfiguration {
        let root = try ConfigurationNode.parse(yaml: yaml, environment: environment)
        var configuration = try StrictTreeDecoder(environment: environment).decode(HubConfiguration.self, from: root)
        configuration.applyEnvironmentShortcuts(environment)
        try configuration.validate()
        return configuration
    }
}
