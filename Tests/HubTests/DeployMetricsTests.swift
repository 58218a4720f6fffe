// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// The deploy bundle watches only what the hub exports: every metric named in a PromQL expression of
/// the Grafana dashboard (`deploy/grafana/hub.json`) or of a Prometheus rule (`deploy/prometheus/*.yml`)
/// is declared in `Sources/Engine/Metrics` and appears in a live hub's `/metrics` once traffic has
/// gone through every door the dashboard shows (metrics appear only after their first use).
@Suite(.timeLimit(.minutes(2)))
struct DeployMetricsTests {
    /// The repository, found from this file (`Tests/HubTests/DeployMetricsTests.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Series Prometheus makes itself for every target; the rules may use them (`up` for "hub down").
    static let prometheusOwn: Set<String> = [
        "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added",
    ]

    /// Labels Prometheus adds to every series of a target (and the name's own pseudo-label).
    static let targetLabels: Set<String> = ["job", "instance", "__name__"]

    @Test func theExtractorFindsMetricNamesOnly() {
        #expect(
            PromQL.metricNames(
                in: #"histogram_quantile(0.95, sum by (provider, le) (rate(hub_llm_request_duration_seconds_bucket{outcome!~"ok|x"}[$__rate_interval])))"#)
                == ["hub_llm_request_duration_seconds_bucket"])
        #expect(PromQL.metricNames(in: #"up{job="hub"} == 0 or absent(up{job="hub"}) * 1e3"#) == ["up"])
        #expect(
            PromQL.metricNames(
                in: "sum(rate(a_total[5m])) without (door) / on (lane) group_left (x) sum(b_total offset 5m) > bool 0.2 unless c:recorded")
                == ["a_total", "b_total", "c:recorded"])
        #expect(PromQL.metricNames(in: #"label_replace(max by (kind) (hub_breaker_state), "k", "$1", "kind", "(.*)") == 2"#) == ["hub_breaker_state"])
        #expect(PromQL.metricNames(in: "sum(increase(hub_lane_refused_total[1h:5m])) > inf") == ["hub_lane_refused_total"])
    }

    @Test func theExtractorFindsLabelsWithTheirMetrics() {
        let uses = PromQL.labelUses(
            in: #"histogram_quantile(0.95, sum by (provider, le) (rate(hub_x_bucket{outcome!~"ok|}x", door = "qq"}[5m]))) / on(lane) b{kind=~"a,b"}"#)
        #expect(uses.filter { $0.metric == "hub_x_bucket" }.map(\.label).sorted() == ["door", "outcome"])
        #expect(uses.filter { $0.metric == "b" }.map(\.label) == ["kind"])
        #expect(uses.filter { $0.metric == nil }.map(\.label).sorted() == ["lane", "le", "provider"])
        #expect(PromQL.labelUses(in: #"{__name__="up"} or label_replace(up, "k", "$1", "job", "(.*)")"#).map(\.label) == ["__name__"])
        #expect(DeployMetricsTests.labels(inExposition: "# TYPE a counter\na_total{door=\"q,}\\\"x\",kind=\"k\"} 1\nb 2\n") == [
            "a": [], "a_total": ["door", "kind"], "b": [],
        ])
    }

    @Test func theDashboardAndTheRulesNameOnlyMetricsTheHubExports() async throws {
        let expressions = try Self.expressions()
        var referenced = [String: Set<String>]()
        for (expression, place) in expressions {
            for name in PromQL.metricNames(in: expression) { referenced[name, default: []].insert(place) }
        }
        #expect(referenced.keys.contains { $0.hasPrefix("hub_") })
        let declared = try Self.declaredFamilies()
        #expect(!declared.isEmpty)

        let exported = try await Self.liveScrape()
        var missing = [String]()
        var undeclared = [String]()
        for (name, places) in referenced.sorted(by: { $0.key < $1.key }) where !Self.prometheusOwn.contains(name) {
            if exported[name] == nil { missing.append("\(name) (in \(places.sorted().joined(separator: ", ")))") }
            if Self.family(of: name, in: declared) == nil { undeclared.append("\(name) (in \(places.sorted().joined(separator: ", ")))") }
        }
        #expect(missing.isEmpty, "named in deploy/ but absent from a live /metrics:\n\(missing.joined(separator: "\n"))")
        #expect(undeclared.isEmpty, "named in deploy/ but declared nowhere in Sources/Engine/Metrics:\n\(undeclared.joined(separator: "\n"))")

        // The labels: a matcher's label is one its metric carries; a grouping label (`by`, `on`, …)
        // is one that some metric of the expression carries.
        var wrongLabels = [String]()
        for (expression, place) in expressions {
            let names = PromQL.metricNames(in: expression).filter { !Self.prometheusOwn.contains($0) }
            let carried = names.reduce(into: Self.targetLabels) { $0.formUnion(exported[$1] ?? []) }
            for (metric, label) in PromQL.labelUses(in: expression) where !Self.targetLabels.contains(label) {
                if let metric {
                    guard !Self.prometheusOwn.contains(metric), let labels = exported[metric] else { continue }
                    if !labels.contains(label) { wrongLabels.append("\(metric){\(label)} in \(place): \(metric) has \(labels.sorted())") }
                } else if !names.isEmpty, !carried.contains(label) {
                    wrongLabels.append("by/on (\(label)) in \(place): none of \(names.sorted()) has it")
                }
            }
        }
        #expect(wrongLabels.isEmpty, "labels named in deploy/ that the hub's metrics do not carry:\n\(wrongLabels.joined(separator: "\n"))")
    }

    /// The configuration files of the bundle load as the hub loads them (no unknown key, every
    /// value of the right type) with the variables of `.env.example`.
    @Test func theBundledConfigurationsLoad() throws {
        var environment = [String: String]()
        let example = try String(contentsOf: Self.root.appendingPathComponent("deploy/.env.example"), encoding: .utf8)
        for line in example.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        environment["HUB_REDIS_URL"] = "redis://:\(environment["REDIS_PASSWORD"] ?? "")@redis:6379/0"

        let compose = try HubConfiguration.parse(
            yaml: String(contentsOf: Self.root.appendingPathComponent("deploy/hub.yaml"), encoding: .utf8), environment: environment)
        #expect(compose.server.host == "0.0.0.0")
        #expect(compose.storage.sqlitePath == "/data/hub.sqlite")
        #expect(compose.redis.url == "redis://:change-me-redis-password@redis:6379/0")
        #expect(compose.onebot.accessToken?.value == "change-me-onebot-access-token")
        #expect(compose.llm.providers.map(\.name) == ["openai"])

        // The hub.yaml of the Kubernetes config map: the block under `hub.yaml: |`, indented by four.
        let configMap = try String(contentsOf: Self.root.appendingPathComponent("deploy/k8s/configmap.yaml"), encoding: .utf8)
        let lines = configMap.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "hub.yaml: |" })
        let block = lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix("    ") }.map { $0.dropFirst(min(4, $0.count)) }
        let kubernetes = try HubConfiguration.parse(yaml: block.joined(separator: "\n"), environment: environment)
        #expect(kubernetes.storage.sqlitePath == "/data/hub.sqlite")
        #expect(kubernetes.redis.url != nil)
    }

    // MARK: What deploy/ names

    /// Every expression of the dashboard and the rules, with the file it is in.
    static func expressions() throws -> [(expression: String, place: String)] {
        var expressions = [(expression: String, place: String)]()
        func note(_ expression: String, _ place: String) { expressions.append((expression, place)) }

        let dashboardURL = root.appendingPathComponent("deploy/grafana/hub.json")
        let dashboard = try JSONValue(parsing: Array(try Data(contentsOf: dashboardURL)))
        var dashboardExpressions = 0
        walk(dashboard) { key, value in
            if key == "expr", let expression = value.stringValue, !expression.isEmpty {
                note(expression, "deploy/grafana/hub.json")
                dashboardExpressions += 1
            }
        }
        #expect(dashboardExpressions >= 10, "the dashboard should have a panel per thing it watches")

        let rulesFolder = root.appendingPathComponent("deploy/prometheus")
        let files = try FileManager.default.contentsOfDirectory(atPath: rulesFolder.path).filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
        var ruleExpressions = 0
        for file in files.sorted() {
            let text = try String(contentsOf: rulesFolder.appendingPathComponent(file), encoding: .utf8)
            guard let tree = try ConfigurationNode.parse(yaml: text, environment: [:]) else { continue }
            walk(tree) { key, node in
                if key == "expr", case .scalar(let expression) = node.value {
                    note(expression, "deploy/prometheus/\(file)")
                    ruleExpressions += 1
                }
            }
        }
        #expect(ruleExpressions >= 4, "hub down, breaker open, lane refusals, Redis down")
        return expressions
    }

    static func walk(_ value: JSONValue, _ visit: (String, JSONValue) -> Void) {
        if let object = value.objectValue {
            for (key, child) in object {
                visit(key, child)
                walk(child, visit)
            }
        } else if let array = value.arrayValue {
            for child in array { walk(child, visit) }
        }
    }

    static func walk(_ node: ConfigurationNode, _ visit: (String, ConfigurationNode) -> Void) {
        switch node.value {
        case .mapping(let entries):
            for entry in entries {
                visit(entry.key, entry.node)
                walk(entry.node, visit)
            }
        case .sequence(let children):
            for child in children { walk(child, visit) }
        case .scalar, .null:
            break
        }
    }

    // MARK: What the hub declares and exports

    /// The metric families created in `Sources/Engine/Metrics` (`label: "…"`).
    static func declaredFamilies() throws -> Set<String> {
        let folder = root.appendingPathComponent("Sources/Engine/Metrics")
        let pattern = try NSRegularExpression(pattern: #"label:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)""#)
        var families = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { families.insert(String(text[range])) }
            }
        }
        return families
    }

    /// The family a sample name belongs to: itself, or one with a `_bucket`, `_sum`, `_count` (histogram)
    /// or `_total` (counter) suffix.
    static func family(of name: String, in families: Set<String>) -> String? {
        if families.contains(name) { return name }
        for suffix in ["_bucket", "_sum", "_count", "_total"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if families.contains(base) { return base }
        }
        return nil
    }

    /// Every sample and family name in the `/metrics` of a hub that has seen traffic on each door
    /// the dashboard shows: QQ messages (one of them a duplicate, one malformed, one refused by a
    /// full session queue), a web chat page (one message over its rate limit), speech, and a Redis
    /// that is down (so the fallback counters and `redis_up` appear without a server).
    static func liveScrape() async throws -> [String: Set<String>] {
        let upstream = FakeUpstream()
        return try await upstream.run { base in
            // `reply_wait: 0`: the answers to the held messages, done after the bot left, go straight
            // to the outbox instead of keeping the hub's shutdown waiting for the bot.
            let configuration = try TestHub.configuration(
                upstream: base, databasePath: TestHub.databasePath(), onebot: "  reply_wait: 0", chat: "  session_queue: 1",
                extra: """
                    redis: { url: "redis://127.0.0.1:1/0", connect_timeout: 0.2, command_timeout: 0.2 }
                    web: { rate_limit: "1/60s" }
                    """)
            return try await TestHub.run(configuration) { port, client in
                let bot = FakeOneBot()
                let (page, pageTask) = WebChatClient.connect(port: port, path: "/ws/chat/deploy")
                defer {
                    page.close()
                    pageTask.cancel()
                }
                let text = try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await bot.connect(port: port) }
                    try await bot.waitUntilConnected()
                    // Answered, then its duplicate dropped.
                    let hello = OneBotFrames.privateMessage(selfID: bot.selfID, user: 5, messageID: 1, text: "hi")
                    bot.send(hello)
                    bot.send(hello)
                    _ = try await bot.action(0)
                    // The same question from someone else: a response cache hit, when the cache kept the answer.
                    bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 6, messageID: 2, text: "hi"))
                    // A message event without a sender: malformed.
                    bot.send(#"{"time":1717000000,"self_id":\#(bot.selfID),"post_type":"message","message_type":"private","message_id":3,"message":"who"}"#)
                    // One running, one waiting, the third refused by the session queue (`session_queue: 1`).
                    for id in 4...6 { bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: 7, messageID: Int64(id), text: "held \(id)")) }
                    // The web page: one answer, then its rate limit.
                    _ = try await page.history()
                    page.message("w1", "hello from the page")
                    try await page.frame("done", id: "w1")
                    page.message("w2", "again")
                    try await page.frame("error", id: "w2")
                    // Speech in process, on the cpu lane.
                    let speech = try await SpeechHTTP.postJSON(client, "/api/v1/tts/synthesize", #"{"text":"hello"}"#)
                    #expect(speech.status == .ok)
                    defer { upstream.release() }
                    let text = try await waitForMetrics(
                        client,
                        [
                            #"hub_duplicates_dropped_total{door="qq"} 1"#, #"hub_lane_refused_total{lane="session"}"#,
                            #"hub_malformed_input_total{door="onebot""#, #"hub_rate_limited_total{door="web""#, "hub_llm_cache_total",
                            #"hub_connected_clients{door="web"} 1"#, #"hub_connected_bots{door="qq"} 1"#, "redis_up 0", "hub_cache_fallbacks_total",
                            "hub_speech_request_duration_seconds_count", "hub_llm_request_duration_seconds_bucket", "hub_lane_wait_seconds_bucket",
                            "hub_breaker_state", "hub_route_disabled",
                        ], timeout: .seconds(20))
                    bot.disconnect()
                    try await tasks.waitForAll()
                    return text
                }
                return Self.labels(inExposition: text)
            }
        }
    }

    /// The sample names (`name{…} value`, `name value`) and the families (`# TYPE name kind`) of a
    /// scrape, each with the label names its samples carry.
    static func labels(inExposition text: String) -> [String: Set<String>] {
        let scrape = MetricsScrape(text)
        var labels = [String: Set<String>]()
        for family in scrape.families { labels[family, default: []].formUnion([]) }
        for sample in scrape.samples { labels[sample.name, default: []].formUnion(sample.labels.keys) }
        return labels
    }
}

/// Metric names in PromQL expressions, as a linter of the deploy bundle needs them.
enum PromQL {
    /// Words that are not metric names: aggregation modifiers, set and comparison operators,
    /// `offset`, and the float literals.
    static let keywords: Set<String> = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
    ]

    /// One of the literal patterns below (a typo in one fails every test that uses it).
    private static func regex(_ pattern: String) -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            preconditionFailure("PromQL pattern \(pattern): \(error)")
        }
    }

    private static let strings = regex(#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`"#)
    private static let braces = regex(#"\{[^}]*\}"#)
    private static let brackets = regex(#"\[[^\]]*\]"#)
    private static let variables = regex(#"\$\{[^}]*\}|\$\w+"#)
    private static let grouping = regex(#"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#)
    private static let identifier = regex(#"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?"#)

    private static let selector = regex(#"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{"#)
    private static let groupingLabels = regex(#"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"#)

    /// The label names of the matchers that start `text` and run to its `}`:
    /// `a="x", b=~"y"` — names before an operator, values in double quotes with `\` escapes skipped.
    static func labelNames(inMatchers text: Substring) -> Set<String> {
        var names = Set<String>()
        var name = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "}" { break }
            if character == "\"" || character == "'" {
                if !name.isEmpty { names.insert(name) }
                name = ""
                // Skip the quoted value.
                index = text.index(after: index)
                while index < text.endIndex, text[index] != character {
                    if text[index] == "\\" { index = text.index(after: index) }
                    if index < text.endIndex { index = text.index(after: index) }
                }
            } else if character.isLetter || character.isNumber || character == "_" {
                name.append(character)
            } else if !character.isWhitespace, character != "=", character != "!", character != "~" {
                name = ""
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        return names
    }

    /// Every label `expression` names: in a selector's matchers (with the selector's metric, or nil
    /// for `{__name__=…}`), and in `by`, `without`, `on`, `ignoring` and `group_*` lists (nil metric).
    static func labelUses(in expression: String) -> [(metric: String?, label: String)] {
        var uses = [(metric: String?, label: String)]()
        let range = NSRange(expression.startIndex..., in: expression)
        // Selectors, found in the expression with its strings blanked (a `{` inside a string is no selector).
        var masked = Array(expression)
        for match in strings.matches(in: expression, range: range) {
            guard let stringRange = Range(match.range, in: expression) else { continue }
            let start = expression.distance(from: expression.startIndex, to: stringRange.lowerBound)
            let end = expression.distance(from: expression.startIndex, to: stringRange.upperBound)
            // Keep the quotes, blank what is between them.
            for offset in (start + 1)..<max(start + 1, end - 1) { masked[offset] = " " }
        }
        let maskedText = String(masked)
        let maskedRange = NSRange(maskedText.startIndex..., in: maskedText)
        for match in selector.matches(in: maskedText, range: maskedRange) {
            guard let brace = Range(match.range, in: maskedText)?.upperBound else { continue }
            let metric = Range(match.range(at: 1), in: maskedText).map { String(maskedText[$0]) }
            if let metric, keywords.contains(metric.lowercased()) { continue }
            let offset = maskedText.distance(from: maskedText.startIndex, to: brace)
            let original = expression[expression.index(expression.startIndex, offsetBy: offset)...]
            for label in labelNames(inMatchers: original).sorted() { uses.append((metric, label)) }
        }
        for match in groupingLabels.matches(in: maskedText, range: maskedRange) {
            guard let list = Range(match.range(at: 1), in: maskedText) else { continue }
            for label in maskedText[list].split(separator: ",") {
                let trimmed = label.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { uses.append((nil, trimmed)) }
            }
        }
        return uses
    }

    /// The metric names in `expression`: every identifier left once strings, label matchers, ranges,
    /// Grafana variables and grouping labels are gone, except functions (followed by `(`) and keywords.
    static func metricNames(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [strings, braces, brackets, variables, grouping] {
            text = pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: " ")
        }
        var names = Set<String>()
        for match in identifier.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard match.range(at: 2).location == NSNotFound, let range = Range(match.range(at: 1), in: text) else { continue }
            let name = String(text[range])
            if !keywords.contains(name.lowercased()) { names.insert(name) }
        }
        return names
    }
}
