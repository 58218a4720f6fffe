// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Hub

/// The configuration example of ARCHITECTURE.md, verbatim.
private let architectureExample = """
    server:  { host: 0.0.0.0, port: 8080 }
    storage: { sqlite_path: ./data/hub.sqlite }          # embedded default
    redis:   { url: redis://127.0.0.1:6379/0 }           # absent → in-process cache
    admin:   { api_key: ${HUB_ADMIN_API_KEY} }
    onebot:
      access_token: ${HUB_ONEBOT_ACCESS_TOKEN}           # reverse WS / HTTP API token
      secret: ${HUB_ONEBOT_SECRET}                       # HTTP POST signature key
      http_api: { "3847291056": http://napcat:3000 }     # optional forward HTTP API per bot
    chat:
      group_trigger: [at, reply, prefix, nickname]
      prefixes: ["/"]
      nicknames: []
      session_scope: per_user                            # or per_group
      history: { max_turns: 20, max_tokens: 4000, max_bytes: 65536 }
      persona: "You are a helpful assistant."
      rate_limit: { per_user: "30/60s", per_group: "120/60s" }
    llm:
      providers:
        - name: deepseek
          base_url: https://api.deepseek.com/v1
          api_key: ${DEEPSEEK_API_KEY}
          models: [ { name: deepseek-chat, max_tokens: 4096, cost_per_1k_tokens: 0.001, max_concurrent: 100 } ]
          timeout: 25
          retry_attempts: 3
      routing: { strategy: intelligent, weights: { cost: 0.3, latency: 0.3, success_rate: 0.4 } }
      caching: { enabled: true, ttl: 3600, max_size: 10000 }
      circuit_breaker: { failure_threshold: 5, recovery_timeout: 60, half_open_max_calls: 3 }
    tts:   { providers: [ { name: espeak, kind: espeak-ng, voices: [ { name: en-us }, { name: en }, { name: cmn }, { name: yue } ] } ] }
    stt:   { providers: [ { name: sphinx, kind: pocketsphinx } ] }
    image: { providers: [] }
    lanes: { realtime: { max_concurrent: 256, queue: 4096 }, cpu: { max_concurrent: 2, queue: 256 }, batch: { max_concurrent: 1, queue: 1024 } }
    """

private let exampleSecrets = [
    "HUB_ADMIN_API_KEY": "admin-key-1234",
    "HUB_ONEBOT_ACCESS_TOKEN": "onebot-token-5678",
    "HUB_ONEBOT_SECRET": "onebot-hmac-9012",
    "DEEPSEEK_API_KEY": "sk-deepseek-3456",
]

/// Parses `yaml` and returns the `ConfigurationError` it must throw.
private func configurationError(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationError? {
    do {
        _ = try HubConfiguration.parse(yaml: yaml, environment: environment)
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

@Suite struct ConfigurationDefaultsTests {
    @Test func emptyTextGivesAllDefaults() throws {
        let configuration = try HubConfiguration.parse(yaml: "", environment: [:])
        #expect(configuration == HubConfiguration())
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 8080)
        #expect(configuration.server.maxBodyBytes == 1_048_576)
        #expect(configuration.server.requestTimeout == 5)
        #expect(configuration.storage.sqlitePath == "./data/hub.sqlite")
        #expect(configuration.redis.url == nil)
        #expect(configuration.admin.apiKey == nil)
        #expect(configuration.onebot.accessToken == nil)
        #expect(configuration.onebot.httpAPI.isEmpty)
        #expect(configuration.onebot.actionTimeout == 30)
        #expect(configuration.onebot.mediaActionTimeout == 120)
        #expect(configuration.onebot.maxFrameBytes == 67_108_864)
        #expect(configuration.onebot.maxMessageLength == 3000)
        #expect(configuration.onebot.replyWait == 30)
        #expect(configuration.chat.groupTrigger == [.at, .reply, .prefix, .nickname])
        #expect(configuration.chat.prefixes == ["/"])
        #expect(configuration.chat.nicknames.isEmpty)
        #expect(configuration.chat.sessionScope == .perUser)
        #expect(configuration.chat.history == .init(maxTurns: 20, maxTokens: 4000, maxBytes: 65536))
        #expect(configuration.chat.persona == "You are a helpful assistant.")
        #expect(configuration.chat.rateLimit.perUser == .init(count: 30, seconds: 60))
        #expect(configuration.chat.rateLimit.perGroup == .init(count: 120, seconds: 60))
        #expect(configuration.chat.maxReplyLength == 3000)
        #expect(configuration.chat.sessionQueue == 8)
        #expect(configuration.chat.dedupeWindow == 300)
        #expect(configuration.chat.dedupeCapacity == 4096)
        #expect(configuration.lanes.notices == .init(maxConcurrent: 16, queue: 1024))
        #expect(configuration.gateway.rateLimit.isOff)
        #expect(configuration.llm.providers.isEmpty)
        #expect(configuration.llm.defaultModel == nil)
        #expect(configuration.llm.routing.strategy == .intelligent)
        #expect(configuration.llm.routing.weights == .init(cost: 0.3, latency: 0.3, successRate: 0.4))
        #expect(configuration.llm.caching == .init(enabled: true, ttl: 3600, maxSize: 10000))
        #expect(configuration.llm.circuitBreaker == .init(failureThreshold: 5, recoveryTimeout: 60, halfOpenMaxCalls: 3))
        #expect(configuration.tts.providers.map(\.name) == ["espeak"])
        #expect(configuration.tts.providers.first?.kind == "espeak-ng")
        #expect(configuration.tts.providers.first?.voices.map(\.name) == ["en-us", "en", "cmn", "yue"])
        #expect(configuration.stt.providers.map(\.kind) == ["pocketsphinx"])
        #expect(configuration.image.providers.isEmpty)
        #expect(configuration.lanes.realtime == .init(maxConcurrent: 256, queue: 4096))
        #expect(configuration.lanes.cpu == .init(maxConcurrent: 2, queue: 256))
        #expect(configuration.lanes.batch == .init(maxConcurrent: 1, queue: 1024))
    }

    @Test(arguments: ["# only a comment\n", "~", "server:\nchat: ~\n", "---\n"])
    func emptyDocumentsAndSectionsGiveDefaults(yaml: String) throws {
        #expect(try HubConfiguration.parse(yaml: yaml, environment: [:]) == HubConfiguration())
    }

    @Test func noFileGivesDefaults() throws {
        #expect(try HubConfiguration.load(path: nil, environment: [:]) == HubConfiguration())
    }

    @Test func missingFileIsAnError() {
        let path = "/nonexistent/hub-\(UInt64.random(in: 0...UInt64.max)).yaml"
        #expect {
            try HubConfiguration.load(path: path, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.code == .fileNotFound && "\(error)".contains(path)
        }
    }

    @Test func loadsAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).yaml").path
        try "server: { port: 9191 }\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try HubConfiguration.load(path: path, environment: [:])
        #expect(configuration.server.port == 9191)
    }
}

@Suite struct ConfigurationExampleTests {
    @Test func architectureExampleParses() throws {
        let configuration = try HubConfiguration.parse(yaml: architectureExample, environment: exampleSecrets)
        #expect(configuration.redis.url == "redis://127.0.0.1:6379/0")
        #expect(configuration.admin.apiKey?.value == "admin-key-1234")
        #expect(configuration.onebot.accessToken?.value == "onebot-token-5678")
        #expect(configuration.onebot.secret?.value == "onebot-hmac-9012")
        #expect(configuration.onebot.httpAPI == ["3847291056": "http://napcat:3000"])
        #expect(configuration.onebot.httpAPIBySelfID == [3_847_291_056: "http://napcat:3000"])
        let provider = try #require(configuration.llm.providers.first)
        #expect(configuration.llm.providers.count == 1)
        #expect(provider.name == "deepseek")
        #expect(provider.baseURL == "https://api.deepseek.com/v1")
        #expect(provider.apiKey?.value == "sk-deepseek-3456")
        #expect(provider.models == [.init(name: "deepseek-chat", maxTokens: 4096, costPer1kTokens: 0.001, maxConcurrent: 100)])
        #expect(provider.timeout == 25)
        #expect(provider.connectTimeout == 5)
        #expect(provider.retryAttempts == 3)
        #expect(provider.priority == nil)
        // Everything else in the example is the default (but the host: the example listens on
        // every address, the default on loopback only).
        var expected = configuration
        #expect(expected.server.host == "0.0.0.0")
        expected.server.host = "127.0.0.1"
        expected.redis = RedisSettings()
        expected.admin = AdminSettings()
        expected.onebot = OneBotSettings()
        expected.llm.providers = []
        #expect(expected == HubConfiguration())
    }

    @Test func architectureExampleWithoutSecretsLeavesThemUnset() throws {
        let configuration = try HubConfiguration.parse(yaml: architectureExample, environment: [:])
        #expect(configuration.admin.apiKey == nil)
        #expect(configuration.onebot.accessToken == nil)
        #expect(configuration.onebot.secret == nil)
        #expect(configuration.llm.providers.first?.apiKey == nil)
    }

    @Test func syntaxErrorGivesTheLine() {
        let error = configurationError("server:\n  port: 8080\n  host: [oops\nchat: {}\n")
        #expect(error?.code == .syntax)
        #expect(error?.line != nil)
        #expect(error.map { "\($0)".contains("line \($0.line ?? -1)") } == true)
        let indented = configurationError("server:\n  port: 1\n port: 2\n")
        #expect(indented?.code == .syntax)
        #expect(indented?.line == 3)
    }

    @Test func duplicateKeysAreAnError() {
        let error = configurationError("server:\n  port: 1\n  port: 2\n")
        #expect(error?.code == .syntax)
        #expect(error.map { "\($0)".contains("duplicate key \"port\"") } == true)
    }
}

@Suite struct ConfigurationEnvironmentTests {
    @Test func overrideReplacesAKeyInTheFile() throws {
        let configuration = try HubConfiguration.parse(
            yaml: "server: { host: 127.0.0.1, port: 9000 }\nonebot: { access_token: from-file }\n",
            environment: ["HUB_SERVER_PORT": "7000", "HUB_ONEBOT_ACCESS_TOKEN": "from-env"]
        )
        #expect(configuration.server.port == 7000)
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.onebot.accessToken?.value == "from-env")
    }

    @Test func overrideSetsKeysAbsentFromTheFile() throws {
        let environment = [
            "HUB_CHAT_HISTORY_MAX_TURNS": "5",
            "HUB_REDIS_URL": "redis://cache:6379/1",
            "HUB_STORAGE_SQLITE_PATH": "/var/lib/hub/hub.sqlite",
            "HUB_ADMIN_API_KEY": "admin",
            "HUB_LANES_CPU_MAX_CONCURRENT": "8",
            "HUB_LLM_ROUTING_STRATEGY": "round_robin",
            "HUB_LLM_ROUTING_WEIGHTS_SUCCESS_RATE": "0.9",
            "HUB_LLM_CACHING_ENABLED": "false",
            "HUB_CHAT_RATE_LIMIT_PER_USER": "10/1m",
            "HUB_CHAT_SESSION_SCOPE": "per_group",
            "HUB_ONEBOT_REPLY_WAIT": "12.5",
            "HUB_SERVER_REQUEST_TIMEOUT": "1.5",
            "HUB_ENGINE_REPLAY_WINDOW": "120",
            "HUB_LLM_DEFAULT_MODEL": "m",
        ]
        let configuration = try HubConfiguration.parse(yaml: "chat: { persona: hi }\n", environment: environment)
        #expect(configuration.chat.history.maxTurns == 5)
        #expect(configuration.chat.history.maxTokens == 4000)
        #expect(configuration.chat.persona == "hi")
        #expect(configuration.redis.url == "redis://cache:6379/1")
        #expect(configuration.storage.sqlitePath == "/var/lib/hub/hub.sqlite")
        #expect(configuration.admin.apiKey?.value == "admin")
        #expect(configuration.lanes.cpu == .init(maxConcurrent: 8, queue: 256))
        #expect(configuration.lanes.batch == .init(maxConcurrent: 1, queue: 1024))
        #expect(configuration.llm.routing.strategy == .roundRobin)
        #expect(configuration.llm.routing.weights.successRate == 0.9)
        #expect(configuration.llm.caching.enabled == false)
        #expect(configuration.chat.rateLimit.perUser == .init(count: 10, seconds: 60))
        #expect(configuration.chat.sessionScope == .perGroup)
        #expect(configuration.onebot.replyWait == 12.5)
        #expect(configuration.server.requestTimeout == 1.5)
        #expect(configuration.engine.replayWindow == 120)
        #expect(configuration.llm.defaultModel == "m")
    }

    @Test func emptyOverrideCountsAsUnset() throws {
        let configuration = try HubConfiguration.parse(
            yaml: "server: { port: 9000 }\n",
            environment: ["HUB_SERVER_PORT": "", "HUB_ADMIN_API_KEY": ""]
        )
        #expect(configuration.server.port == 9000)
        #expect(configuration.admin.apiKey == nil)
    }

    @Test func listElementsHaveNoOverrides() throws {
        let yaml = "llm: { providers: [ { name: a, base_url: http://a, models: [ { name: m } ] } ] }\n"
        let configuration = try HubConfiguration.parse(yaml: yaml, environment: ["HUB_LLM_PROVIDERS_0_NAME": "b", "HUB_LLM_PROVIDERS_NAME": "b"])
        #expect(configuration.llm.providers.map(\.name) == ["a"])
    }

    @Test func invalidOverrideNamesTheVariableAndTheKey() {
        let error = configurationError("server: { port: 9000 }\n", environment: ["HUB_SERVER_PORT": "abc"])
        #expect(error?.code == .invalidEnvironment)
        #expect(error?.path == "server.port")
        #expect(error?.description == #"server.port: expected an integer (magnitude at most 2^40), found "abc" in environment variable HUB_SERVER_PORT"#)

        let bool = configurationError("", environment: ["HUB_LLM_CACHING_ENABLED": "maybe"])
        #expect(bool.map { "\($0)".contains("llm.caching.enabled") && "\($0)".contains("HUB_LLM_CACHING_ENABLED") } == true)

        let strategy = configurationError("", environment: ["HUB_LLM_ROUTING_STRATEGY": "fastest"])
        #expect(strategy?.description.contains("one of intelligent, priority, round_robin, least_busy") == true)

        let rate = configurationError("", environment: ["HUB_CHAT_RATE_LIMIT_PER_GROUP": "lots"])
        #expect(rate?.path == "chat.rate_limit.per_group")
    }

    @Test func substitutesVariablesInScalars() throws {
        let yaml = """
            server: { host: "${HOST:-127.0.0.1}", port: ${PORT:-8181} }
            storage: { sqlite_path: ${DATA}/hub-${NAME:-x}.sqlite }
            chat: { persona: "${UNSET_PERSONA}", prefixes: ["$${LITERAL}", "${EMPTY:-!}"] }
            """
        let configuration = try HubConfiguration.parse(yaml: yaml, environment: ["DATA": "/data", "EMPTY": ""])
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 8181)
        #expect(configuration.storage.sqlitePath == "/data/hub-x.sqlite")
        // Exactly `${VAR}` with VAR unset is absent: the key keeps its default.
        #expect(configuration.chat.persona == ChatSettings().persona)
        #expect(configuration.chat.prefixes == ["${LITERAL}", "!"])

        let set = try HubConfiguration.parse(yaml: yaml, environment: ["DATA": "/d", "HOST": "::1", "PORT": "1", "NAME": "n"])
        #expect(set.server.host == "::1")
        #expect(set.server.port == 1)
        #expect(set.storage.sqlitePath == "/d/hub-n.sqlite")
    }

    @Test func substitutedValuesCannotInjectStructure() throws {
        let configuration = try HubConfiguration.parse(
            yaml: "chat: { persona: ${P} }\n",
            environment: ["P": "a, b: c } # d"]
        )
        #expect(configuration.chat.persona == "a, b: c } # d")
    }

    @Test func badReferenceNamesTheKey() {
        let error = configurationError("chat:\n  persona: \"${1BAD}\"\n")
        #expect(error?.path == "chat.persona")
        #expect(error?.line == 2)
        let unterminated = configurationError("chat:\n  persona: \"${OPEN\"\n")
        #expect(unterminated?.path == "chat.persona")
    }

    @Test func requiredKeySetToAnUnsetVariableIsMissing() {
        let error = configurationError("llm: { providers: [ { name: x, base_url: ${NOPE} } ] }\n")
        #expect(error?.code == .missingKey)
        #expect(error?.path == "llm.providers[0].base_url")
    }
}

@Suite struct ConfigurationErrorTests {
    @Test func unknownTopLevelAndNestedKeys() {
        let top = configurationError("sever: { port: 1 }\n")
        #expect(top?.code == .unknownKey)
        #expect(top?.description == #"sever: unknown key, did you mean "server"? (line 1)"#)

        let nested = configurationError("chat:\n  history: { max_turn: 3 }\n")
        #expect(nested?.path == "chat.history.max_turn")
        #expect(nested?.line == 2)

        let far = configurationError("server: { zzzzzz: 1 }\n")
        #expect(far?.description == "server.zzzzzz: unknown key (line 1)")
    }

    @Test func unknownKeyInAListElement() {
        let yaml = """
            llm:
              providers:
                - name: a
                  base_url: http://a
                  modles: [ { name: m } ]
            """
        let error = configurationError(yaml)
        #expect(error?.code == .unknownKey)
        #expect(error?.path == "llm.providers[0].modles")
        #expect(error?.description.hasPrefix("llm.providers[0].modles: unknown key") == true)
        #expect(error?.line == 5)

        let deeper = configurationError("tts: { providers: [ { name: e, kind: espeak-ng, voices: [ { name: en }, { nmae: x } ] } ] }\n")
        #expect(deeper?.path == "tts.providers[0].voices[1].nmae")
    }

    @Test func wrongTypes() {
        let port = configurationError("server:\n  port: abc\n")
        #expect(port?.code == .typeMismatch)
        #expect(port?.description.hasPrefix(#"server.port: expected an integer (magnitude at most 2^40), found "abc""#) == true)
        #expect(port?.line == 2)

        #expect(configurationError("server: 5\n")?.description.hasPrefix(#"server: expected a mapping, found "5""#) == true)
        #expect(configurationError("chat: { prefixes: \"/\" }\n")?.description.hasPrefix(#"chat.prefixes: expected a list, found "/""#) == true)
        #expect(configurationError("chat: { persona: [a] }\n")?.description.hasPrefix("chat.persona: expected a string, found a list") == true)
        #expect(configurationError("llm: { caching: { enabled: sometimes } }\n")?.path == "llm.caching.enabled")
        #expect(configurationError("onebot: { action_timeout: soon }\n")?.description.hasPrefix(#"onebot.action_timeout: expected a number"#) == true)
        #expect(configurationError("chat: { group_trigger: [at, wave] }\n")?.path == "chat.group_trigger[1]")
        #expect(configurationError("chat: { session_scope: per_channel }\n")?.description.contains("one of per_user, per_group") == true)
        #expect(configurationError("- a\n- b\n")?.description.hasPrefix("(top level): expected a mapping, found a list") == true)
        #expect(configurationError("engine: { replay_window: -1 }\n")?.path == "engine.replay_window")
        #expect(configurationError("engine: { replay_window: 1e300 }\n")?.path == "engine.replay_window")
        #expect(configurationError("engine: { replay_windows: 5 }\n")?.path == "engine.replay_windows")
    }

    @Test func missingRequiredKeyInAListElement() {
        let error = configurationError("image: { providers: [ { name: sd, kind: sdwebui } ] }\n")
        #expect(error?.code == .missingKey)
        #expect(error?.path == "image.providers[0].base_url")
    }
}

@Suite struct RateLimitTests {
    @Test(arguments: [
        ("30/60s", 30, 60.0), ("120/60s", 120, 60.0), ("5/1m", 5, 60.0), ("100/2h", 100, 7200.0),
        ("10/30", 10, 30.0), ("3/m", 3, 60.0), (" 7 / 90s ", 7, 90.0), ("2/1.5m", 2, 90.0), ("4/10S", 4, 10.0),
    ])
    func parses(text: String, count: Int, seconds: Double) throws {
        let rate = try #require(ChatSettings.RateLimit(configurationText: text))
        #expect(rate.count == count)
        #expect(rate.seconds == seconds)
    }

    @Test(arguments: ["abc", "30", "0/60s", "-1/60s", "10/0s", "10/-5s", "10/5d", "/60s", "10/", "10/60s/2", "1.5/60s", "10/infs"])
    func rejects(text: String) {
        #expect(ChatSettings.RateLimit(configurationText: text) == nil)
    }

    @Test(arguments: ["off", "OFF", " none ", "unlimited"])
    func off(text: String) throws {
        let rate = try #require(ChatSettings.RateLimit(configurationText: text))
        #expect(rate.isOff)
        #expect(rate.rate == nil)
        #expect(rate.description == "off")
    }

    @Test func offFromTheEnvironment() throws {
        let configuration = try HubConfiguration.parse(yaml: "", environment: ["HUB_CHAT_RATE_LIMIT_PER_USER": "off"])
        #expect(configuration.chat.rateLimit.perUser.isOff)
        #expect(configuration.chat.rateLimit.perGroup.rate == Rate(count: 120, period: .seconds(60)))
    }

    @Test func redisSettingsBecomeTheClientConfiguration() throws {
        let configuration = try HubConfiguration.parse(
            yaml: "redis: { url: \"redis://:pw@cache:6380/2\", pool_size: 4, command_timeout: 0.25, key_prefix: \"a:\" }", environment: [:])
        let client = try #require(try configuration.redis.clientConfiguration())
        #expect(client.endpoint == .tcp(host: "cache", port: 6380))
        #expect(client.password == "pw" && client.database == 2 && client.poolSize == 4)
        #expect(client.commandTimeout == .milliseconds(250))
        #expect(configuration.redis.keyPrefix == "a:")
        #expect(try HubConfiguration.parse(yaml: "", environment: [:]).redis.clientConfiguration() == nil)
    }

    @Test func aBadRedisURLNeverShowsItsPassword() {
        let error = configurationError("redis: { url: \"redis://:hunter2@cache:0\" }")
        #expect(error?.path == "redis.url")
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func rendersCanonically() {
        #expect(ChatSettings.RateLimit(count: 5, seconds: 60).description == "5/60s")
        #expect(ChatSettings.RateLimit(count: 5, seconds: 1.5).description == "5/1.5s")
    }

    @Test func invalidRateInTheFileNamesTheKey() {
        let error = configurationError("chat:\n  rate_limit:\n    per_user: 30 per minute\n")
        #expect(error?.path == "chat.rate_limit.per_user")
        #expect(error?.description.contains(#"found "30 per minute""#) == true)
    }
}

@Suite struct ConfigurationValidationTests {
    @Test(arguments: [
        ("server: { port: 70000 }", "server.port"),
        ("server: { port: -1 }", "server.port"),
        ("server: { max_body_bytes: 0 }", "server.max_body_bytes"),
        ("server: { request_timeout: 0 }", "server.request_timeout"),
        ("server: { request_timeout: -1 }", "server.request_timeout"),
        ("server: { request_timeout: 1e300 }", "server.request_timeout"),
        ("onebot: { action_timeout: 0 }", "onebot.action_timeout"),
        ("chat: { dedupe_capacity: -5 }", "chat.dedupe_capacity"),
        // Numbers that once reached Int64(seconds * 1000) unchecked and trapped at start-up.
        ("llm: { routing: { deadline: 1e300 } }", "llm.routing.deadline"),
        ("redis: { history_ttl: 1e300 }", "redis.history_ttl"),

        ("chat: { session_queue: 0 }", "chat.session_queue"),
        ("lanes: { notices: { queue: -1 } }", "lanes.notices.queue"),
        ("chat: { history: { max_turns: 0 } }", "chat.history.max_turns"),
        ("lanes: { cpu: { max_concurrent: 0 } }", "lanes.cpu.max_concurrent"),
        ("lanes: { batch: { queue: -1 } }", "lanes.batch.queue"),
        ("llm: { circuit_breaker: { failure_threshold: 0 } }", "llm.circuit_breaker.failure_threshold"),
        ("llm: { routing: { deadline: 0 } }", "llm.routing.deadline"),
        ("redis: { url: http://cache }", "redis.url"),
        ("redis: { url: \"redis://cache:99999\" }", "redis.url"),
        ("redis: { url: \"rediss://cache\" }", "redis.url"),
        ("redis: { pool_size: 0 }", "redis.pool_size"),
        ("redis: { command_timeout: 0 }", "redis.command_timeout"),
        ("llm: { providers: [ { name: a, base_url: api.example.com, models: [ { name: m } ] } ] }", "llm.providers[0].base_url"),
        ("llm: { providers: [ { name: a, base_url: http://a, models: [] } ] }", "llm.providers[0].models"),
        ("llm: { providers: [ { name: a, base_url: http://a, models: [ { name: m, max_tokens: 0 } ] } ] }", "llm.providers[0].models[0].max_tokens"),
        ("llm: { default_model: nope, providers: [ { name: a, base_url: http://a, models: [ { name: m } ] } ] }", "llm.default_model"),
        ("image: { providers: [ { name: sd, kind: sdwebui, base_url: ftp://sd } ] }", "image.providers[0].base_url"),
        ("tts: { providers: [ { name: a, kind: openai, base_url: nowhere } ] }", "tts.providers[0].base_url"),
        ("tts: { providers: [ { name: a, kind: festival } ] }", "tts.providers[0].kind"),
        ("tts: { providers: [ { name: a, kind: openai } ] }", "tts.providers[0].base_url"),
        ("tts: { providers: [ { name: a, kind: espeak-ng, timeout: 0 } ] }", "tts.providers[0].timeout"),
        ("tts: { voice: klingon }", "tts.voice"),
        ("stt: { providers: [ { name: a, kind: vosk } ] }", "stt.providers[0].kind"),
        ("stt: { providers: [ { name: a, kind: openai } ] }", "stt.providers[0].base_url"),
        ("stt: { providers: [ { name: a, kind: pocketsphinx, pool_size: 0 } ] }", "stt.providers[0].pool_size"),
        ("stt: { providers: [ { name: a, kind: pocketsphinx, grammar: g, keywords: [ hi ] } ] }", "stt.providers[0].keywords"),
        ("stt: { max_upload_bytes: 0 }", "stt.max_upload_bytes"),
        ("tts: { providers: [ { name: a, kind: espeak-ng, pitch: 101 } ] }", "tts.providers[0].pitch"),
        ("voice: { reply: shout }", "voice.reply"),
        ("voice: { max_clip_seconds: 0 }", "voice.max_clip_seconds"),
    ])
    func rejectsInvalidValues(yaml: String, path: String) {
        let error = configurationError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.path == path)
    }

    /// Infinite or absurd periods are refused as values of the wrong form, naming the key.
    @Test(arguments: [
        ("onebot: { action_timeout: .inf }", "onebot.action_timeout"),
        ("server: { request_timeout: .inf }", "server.request_timeout"),
        ("chat: { rate_limit: { per_user: \"1/1e300s\" } }", "chat.rate_limit.per_user"),
    ])
    func rejectsUnboundedNumbers(yaml: String, path: String) {
        let error = configurationError(yaml)
        #expect(error != nil)
        #expect(error?.path == path)
    }

    @Test func httpAPIKeysMustBeBotIDs() {
        let error = configurationError("onebot: { http_api: { napcat: http://napcat:3000 } }\n")
        #expect(error?.code == .invalidValue)
        #expect(error?.path == "onebot.http_api.napcat")
        #expect(error?.description.contains("decimal integer") == true)

        let tooBig = configurationError("onebot: { http_api: { \"99999999999999999999\": http://napcat:3000 } }\n")
        #expect(tooBig?.path == "onebot.http_api.99999999999999999999")

        let badURL = configurationError("onebot: { http_api: { \"123\": napcat:3000 } }\n")
        #expect(badURL?.path == "onebot.http_api.123")
    }

    @Test func duplicateProviderNames() {
        let yaml = """
            llm:
              providers:
                - { name: same, base_url: "http://a", models: [ { name: m } ] }
                - { name: same, base_url: "http://b", models: [ { name: n } ] }
            """
        let error = configurationError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.description == #"llm.providers[1].name: duplicate name "same" (also llm.providers[0].name)"#)

        let speech = configurationError("stt: { providers: [ { name: s, kind: pocketsphinx }, { name: s, kind: openai } ] }\n")
        #expect(speech?.path == "stt.providers[1].name")
    }

    @Test func defaultModelMayNameProviderAndModel() throws {
        let yaml = "llm: { default_model: a/m, providers: [ { name: a, base_url: http://a, models: [ { name: m } ] } ] }\n"
        #expect(try HubConfiguration.parse(yaml: yaml, environment: [:]).llm.defaultModel == "a/m")
    }
}

@Suite struct OpenAIShortcutTests {
    @Test func apiKeyAloneAddsTheOpenAIProvider() throws {
        let configuration = try HubConfiguration.parse(yaml: "", environment: ["OPENAI_API_KEY": "sk-openai"])
        let provider = try #require(configuration.llm.providers.first)
        #expect(configuration.llm.providers.count == 1)
        #expect(provider.name == "openai")
        #expect(provider.baseURL == "https://api.openai.com/v1")
        #expect(provider.apiKey?.value == "sk-openai")
        #expect(provider.models.map(\.name) == ["gpt-4o-mini"])
        #expect(configuration.llm.defaultModel == nil)
    }

    @Test func baseURLAndModelForALocalEndpoint() throws {
        let environment = ["OPENAI_BASE_URL": "http://localhost:11434/v1", "HUB_LLM_MODEL": "qwen2.5:7b"]
        let configuration = try HubConfiguration.load(path: nil, environment: environment)
        let provider = try #require(configuration.llm.providers.first)
        #expect(provider.baseURL == "http://localhost:11434/v1")
        #expect(provider.apiKey == nil)
        #expect(provider.models.map(\.name) == ["qwen2.5:7b"])
        #expect(configuration.llm.defaultModel == "qwen2.5:7b")
    }

    @Test func configuredProvidersWin() throws {
        let yaml = "llm: { providers: [ { name: local, base_url: http://a, models: [ { name: m }, { name: big } ] } ] }\n"
        let environment = ["OPENAI_API_KEY": "sk-openai", "HUB_LLM_MODEL": "big"]
        let configuration = try HubConfiguration.parse(yaml: yaml, environment: environment)
        #expect(configuration.llm.providers.map(\.name) == ["local"])
        #expect(configuration.llm.defaultModel == "big")
    }

    @Test func explicitDefaultModelWins() throws {
        let configuration = try HubConfiguration.parse(yaml: "llm: { default_model: chosen }\n", environment: ["HUB_LLM_MODEL": "other"])
        #expect(configuration.llm.defaultModel == "chosen")
        #expect(configuration.llm.providers.isEmpty)
    }

    @Test func defaultModelMustBeServed() {
        let error = configurationError("llm: { default_model: chosen }\n", environment: ["OPENAI_API_KEY": "k", "HUB_LLM_MODEL": "other"])
        #expect(error?.description == #"llm.default_model: "chosen" is not a model of any provider"#)
    }
}

@Suite struct SecretTests {
    @Test func neverShowsItsValue() {
        let secret = Secret("hunter2")
        #expect(secret.description == "****")
        #expect(secret.debugDescription == "****")
        #expect("\(secret)" == "****")
        #expect(String(reflecting: secret) == "****")
        #expect(!String(describing: AdminSettings(apiKey: secret)).contains("hunter2"))
        var dumped = ""
        dump(AdminSettings(apiKey: secret), to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.value == "hunter2")
        #expect(Secret("").description == "(empty)")
    }

    @Test func encodesTheMask() throws {
        let data = try JSONEncoder().encode(["key": Secret("hunter2")])
        #expect(String(decoding: data, as: UTF8.self) == #"{"key":"****"}"#)
    }
}

@Suite struct RenderMaskedTests {
    @Test func containsNoSecretValue() throws {
        var environment = exampleSecrets
        environment["HUB_REDIS_URL"] = "redis://:redis-pass-7788@cache:6379/0"
        let configuration = try HubConfiguration.parse(
            yaml: architectureExample.replacingOccurrences(
                of: "image: { providers: [] }",
                with: "image: { providers: [ { name: d, kind: openai, base_url: \"https://u:img-pass-1122@img\", api_key: img-key-3344 } ] }"
            ),
            environment: environment
        )
        let rendered = configuration.renderMasked()
        for secret in Array(exampleSecrets.values) + ["redis-pass-7788", "img-pass-1122", "img-key-3344"] {
            #expect(!rendered.contains(secret), "rendered configuration shows \(secret)")
        }
        #expect(rendered.contains("'****'"))
        #expect(rendered.contains("redis://:****@cache:6379/0"))
        #expect(rendered.contains("port: 8080"))
        #expect(rendered.contains("request_timeout: 5\n"))
        #expect(rendered.contains("timeout: 25\n"))
        #expect(rendered.contains("per_user: 30/60s"))
    }

    @Test func outputIsAValidConfiguration() throws {
        let configuration = try HubConfiguration.parse(yaml: architectureExample, environment: exampleSecrets)
        var reparsed = try HubConfiguration.parse(yaml: configuration.renderMasked(), environment: [:])
        #expect(reparsed.admin.apiKey?.value == "****")
        #expect(reparsed.onebot.httpAPI == ["3847291056": "http://napcat:3000"])
        reparsed.admin = configuration.admin
        reparsed.onebot.accessToken = configuration.onebot.accessToken
        reparsed.onebot.secret = configuration.onebot.secret
        reparsed.llm.providers[0].apiKey = configuration.llm.providers[0].apiKey
        #expect(reparsed == configuration)
    }

    @Test func defaultsRoundTrip() throws {
        let rendered = HubConfiguration().renderMasked()
        #expect(try HubConfiguration.parse(yaml: rendered, environment: [:]) == HubConfiguration())
    }
}

@Suite struct ConfigurationExposureTests {
    @Test func onLoopbackNothingIsExposed() throws {
        #expect(try HubConfiguration.parse(yaml: "", environment: [:]).exposureWarnings.isEmpty)
        #expect(try HubConfiguration.parse(yaml: "server: { host: localhost }", environment: [:]).exposureWarnings.isEmpty)
    }

    @Test func beyondLoopbackEveryOpenDoorIsNamed() throws {
        let open = try HubConfiguration.parse(yaml: "", environment: ["HUB_SERVER_HOST": "0.0.0.0"])
        let warnings = open.exposureWarnings
        #expect(warnings.count == 4)
        for key in ["onebot.access_token", "onebot.secret", "web.access_token", "gateway.api_keys"] {
            #expect(warnings.contains { $0.contains(key) }, "\(key)")
        }
        let closed = try HubConfiguration.parse(
            yaml: """
                server: { host: 0.0.0.0 }
                onebot: { access_token: t, secret: s }
                web: { access_token: w }
                gateway: { api_keys: [ k ] }
                """, environment: [:])
        #expect(closed.exposureWarnings.isEmpty)
    }
}
