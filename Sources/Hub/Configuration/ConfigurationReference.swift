// SPDX-License-Identifier: Apache-2.0
import Foundation
import Yams

/// The configuration reference `hub config-reference` prints and the README carries: every key
/// the configuration types accept (found by ``ConfigurationKeyCensus``), its default, the
/// environment variable that overrides it, and what it does (``descriptions``). A test keeps the
/// descriptions and the types in step, and the README's copy equal to the output.
enum ConfigurationReference {
    /// One key.
    struct Entry: Sendable, Hashable {
        /// `server.port`; `llm.providers[].name` for a key of every list element.
        var path: String
        /// The default as YAML; `required` for a list element's required key; `unset` when absent.
        var defaultValue: String
        /// `HUB_SERVER_PORT`; nil inside lists and maps (set those in the file).
        var environment: String?
        var description: String
    }

    /// A document with one element in every list of mappings and every optional key of them left
    /// out, so that decoding it visits every mapping the types have. The keys it sets inside
    /// list elements are the required ones.
    static let sample = """
        llm:
          providers:
            - { name: p, base_url: "http://127.0.0.1:1/v1", models: [ { name: m } ] }
        tts:
          providers:
            - { name: t, kind: espeak-ng, voices: [ { name: en } ] }
        stt:
          providers:
            - { name: s, kind: pocketsphinx }
        image:
          providers:
            - { name: i, kind: openai, base_url: "http://127.0.0.1:1/v1" }
        onebot:
          http_api: { "10001": "http://127.0.0.1:5700" }
        """

    /// Every key in reference order.
    static func entries() throws -> [Entry] {
        let census = ConfigurationKeyCensus()
        let root = try ConfigurationNode.parse(yaml: sample, environment: [:])
        let decoded = try StrictTreeDecoder(environment: [:], census: census).decode(HubConfiguration.self, from: root)
        let defaults = try rendered(HubConfiguration())
        let withLists = try rendered(decoded)
        let required = try Yams.compose(yaml: sample)
        return census.keyPaths.map { path in
            let inList = path.contains("[]")
            let found = node(at: path, in: inList ? withLists : defaults)
            let value = inList && node(at: path, in: required) != nil ? "required" : found.map(text) ?? "unset"
            // Only scalars outside lists have an environment variable.
            let scalar = found.map { if case .scalar = $0 { true } else { false } } ?? true
            return Entry(
                path: path, defaultValue: value, environment: inList || !scalar ? nil : environmentName(path),
                description: descriptions[path] ?? "")
        }
    }

    /// The reference as a Markdown table.
    static func markdown() throws -> String {
        var lines = ["| key | default | environment | what it does |", "| --- | --- | --- | --- |"]
        for entry in try entries() {
            let cells = [
                "`\(entry.path)`", entry.defaultValue == "unset" || entry.defaultValue == "required" ? entry.defaultValue : "`\(entry.defaultValue)`",
                entry.environment.map { "`\($0)`" } ?? "—", entry.description,
            ]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Internals

    private static func rendered(_ configuration: HubConfiguration) throws -> Node? {
        try Yams.compose(yaml: configuration.renderMasked())
    }

    /// The node at `llm.providers[].models[].name` (the first element of each list).
    private static func node(at path: String, in root: Node?) -> Node? {
        var node = root
        for part in path.split(separator: ".") {
            var key = Substring(part)
            var lists = 0
            while key.hasSuffix("[]") {
                key = key.dropLast(2)
                lists += 1
            }
            node = node?.mapping?[String(key)]
            for _ in 0..<lists { node = node?.sequence?.first }
        }
        return node
    }

    /// A value as one line of YAML flow style.
    private static func text(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "\"\"" : scalar.string
        case .sequence(let sequence): "[" + sequence.map(text).joined(separator: ", ") + "]"
        case .mapping(let mapping): "{" + mapping.map { "\(text($0.key)): \(text($0.value))" }.joined(separator: ", ") + "}"
        case .alias: "*"
        }
    }

    private static func environmentName(_ path: String) -> String? {
        var configurationPath = ConfigurationPath()
        for key in path.split(separator: ".") { configurationPath = configurationPath.appending(String(key)) }
        return configurationPath.environmentName
    }
}
