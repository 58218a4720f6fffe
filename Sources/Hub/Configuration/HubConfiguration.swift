// SPDX-License-Identifier: Apache-2.0
import Yams

/// The hub's whole configuration: `hub.yaml` (path by `--config` or `HUB_CONFIG`), `${VAR}` references in
/// it, and `HUB_<PATH>` environment overrides, with a default for every key.
///
/// ```swift
/// let configuration = try HubConfiguration.load(path: configPath, environment: ProcessInfo.processInfo.environment)
/// print(configuration.renderMasked())   // hub check-config
/// ```
///
/// - Every section and key is optional; no file at all gives a working hub (SQLite in `./data`,
///   in-process cache, espeak-ng and PocketSphinx).
/// - Every scalar key reachable through mappings (not inside lists) is overridden by `HUB_` + its path
///   upper-cased with `.` → `_`: `server.port` → `HUB_SERVER_PORT`, `chat.history.max_turns` →
///   `HUB_CHAT_HISTORY_MAX_TURNS`. An empty variable counts as unset.
/// - An unknown key, a wrong type or an invalid value throws a ``ConfigurationError`` naming the key path.
struct HubConfiguration: Sendable, Codable, Equatable, ConfigurationSection {
    var server = ServerSettings()
    var storage = StorageSettings()
    var redis = RedisSettings()
    var admin = AdminSettings()
    var gateway = GatewaySettings()
    var onebot = OneBotSettings()
    var web = WebSettings()
    var chat = ChatSettings()
    var llm = LLMSettings()
    var tts = TTSSettings()
    var stt = STTSettings()
    var image = ImageSettings()
    var lanes = LaneSettings()
    var engine = EngineConfiguration()
    var voice = VoiceSettings()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, storage, redis, admin, gateway, onebot, web, chat, llm, tts, stt, image, lanes, engine, voice
    }
}

extension HubConfiguration {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        server = try container.decode(.server, default: ServerSettings())
        storage = try container.decode(.storage, default: StorageSettings())
        redis = try container.decode(.redis, default: RedisSettings())
        admin = try container.decode(.admin, default: AdminSettings())
        gateway = try container.decode(.gateway, default: GatewaySettings())
        onebot = try container.decode(.onebot, default: OneBotSettings())
        web = try container.decode(.web, default: WebSettings())
        chat = try container.decode(.chat, default: ChatSettings())
        llm = try container.decode(.llm, default: LLMSettings())
        tts = try container.decode(.tts, default: TTSSettings())
        stt = try container.decode(.stt, default: STTSettings())
        image = try container.decode(.image, default: ImageSettings())
        lanes = try container.decode(.lanes, default: LaneSettings())
        engine = try container.decode(.engine, default: EngineConfiguration())
        voice = try container.decode(.voice, default: VoiceSettings())
    }

    // MARK: Loading

    /// Loads, checks and returns the configuration.
    ///
    /// - Parameters:
    ///   - path: The YAML file; `nil` for no file (all defaults plus the environment). A path that does not
    ///     exist is an error.
    ///   - environment: Variables for `${VAR}`, `HUB_*` overrides and the `OPENAI_*` shortcut; pass
    ///     `ProcessInfo.processInfo.environment`.
    /// - Throws: ``ConfigurationError``.
    static func load(path: String?, environment: [String: String]) throws -> HubConfiguration {
        try ConfigurationLoader(environment: environment).load(path: path)
    }

    /// Parses, checks and returns the configuration in `yaml` (an empty string gives the defaults).
    /// - Throws: ``ConfigurationError``.
    static func parse(yaml: String, environment: [String: String]) throws -> HubConfiguration {
        try ConfigurationLoader(environment: environment).parse(yaml: yaml)
    }

    /// Applies the one-provider shortcut: when no LLM provider is configured and `OPENAI_BASE_URL` or
    /// `OPENAI_API_KEY` is set, adds provider `openai` (base URL default `https://api.openai.com/v1`,
    /// model `HUB_LLM_MODEL` or `gpt-4o-mini`). `HUB_LLM_MODEL` also fills an unset `llm.default_model`.
    mutating func applyEnvironmentShortcuts(_ environment: [String: String]) {
        func value(_ name: String) -> String? {
            environment[name].map(\.trimmedForConfiguration).flatMap { $0.isEmpty ? nil : $0 }
        }
        let model = value("HUB_LLM_MODEL")
        let baseURL = value("OPENAI_BASE_URL")
        let apiKey = value("OPENAI_API_KEY")
        if llm.providers.isEmpty, baseURL != nil || apiKey != nil {
            llm.providers = [
                LLMSettings.ProviderSettings(
                    name: "openai",
                    baseURL: baseURL ?? "https://api.openai.com/v1",
                    apiKey: apiKey.map(Secret.init),
                    models: [LLMSettings.ModelSettings(name: model ?? "gpt-4o-mini")]
                )
            ]
        }
        if llm.defaultModel == nil, let model {
            llm.defaultModel = model
        }
    }

    /// Checks ranges, URLs and names. ``load(path:environment:)`` and ``parse(yaml:environment:)`` call it;
    /// call it yourself for a configuration built in code.
    /// - Throws: The first ``ConfigurationError`` found.
    func validate() throws {
        var validator = ConfigurationValidator()
        server.validate(into: &validator)
        storage.validate(into: &validator)
        redis.validate(into: &validator)
        onebot.validate(into: &validator)
        web.validate(into: &validator)
        chat.validate(into: &validator)
        llm.validate(into: &validator)
        tts.validate(into: &validator)
        stt.validate(into: &validator)
        image.validate(into: &validator)
        lanes.validate(into: &validator)
        engine.validate(into: &validator)
        voice.validate(into: &validator)
        try validator.throwIfInvalid()
    }

    // MARK: Rendering

    /// The effective configuration as YAML, secrets shown as `****` and URL passwords masked, for
    /// `hub check-config`. The output is itself a valid configuration file (with masked secrets).
    func renderMasked() -> String {
        var masked = self
        masked.redis.url = redis.maskedURL
        masked.onebot.httpAPI = onebot.httpAPI.mapValues(URLCredentials.masked)
        for index in masked.llm.providers.indices {
            masked.llm.providers[index].baseURL = URLCredentials.masked(masked.llm.providers[index].baseURL)
        }
        for index in masked.tts.providers.indices {
            masked.tts.providers[index].baseURL = masked.tts.providers[index].baseURL.map(URLCredentials.masked)
        }
        for index in masked.stt.providers.indices {
            masked.stt.providers[index].baseURL = masked.stt.providers[index].baseURL.map(URLCredentials.masked)
        }
        for index in masked.image.providers.indices {
            masked.image.providers[index].baseURL = URLCredentials.masked(masked.image.providers[index].baseURL)
        }
        var options = Emitter.Options()
        options.indent = 2
        options.width = -1
        options.allowUnicode = true
        let encoder = YAMLEncoder()
        encoder.options = options
        do {
            // Yams writes every Double in exponent form (`3e+1`); re-emit them as written by hand (`30`).
            guard let node = try Yams.compose(yaml: encoder.encode(masked)) else { return "" }
            return try Yams.serialize(node: Self.readable(node), indent: options.indent, width: options.width, allowUnicode: true)
        } catch {
            return "# cannot render the configuration: \(error)\n"
        }
    }

    /// Floats in plain decimal notation, and mapping keys that would read as numbers quoted.
    private static func readable(_ node: Node) -> Node {
        switch node {
        case .scalar(let scalar) where node.tag.rawValue == Tag.Name.float.rawValue:
            guard let value = Double(scalar.string), value.isFinite else { return node }
            var text = String(value)
            if text.hasSuffix(".0") { text.removeLast(2) }
            return Node(text)
        case .mapping(let mapping):
            return Node(mapping.map { key, value in
                var key = key
                if case .scalar(let scalar) = key, key.tag.rawValue != Tag.Name.str.rawValue {
                    key = Node(scalar.string, Tag(.str), .doubleQuoted)
                }
                return (key, readable(value))
            })
        case .sequence(let sequence):
            return Node(sequence.map(readable))
        default:
            return node
        }
    }
}
