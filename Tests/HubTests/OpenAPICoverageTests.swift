// SPDX-License-Identifier: Apache-2.0
import Adapters
import AsyncHTTPClient
import Engine
import Foundation
import Hummingbird
import Testing

@testable import Hub

/// The OpenAPI document (`Sources/Hub/Resources/openapi.yaml`) against the hub itself: every route
/// of the router the hub builds is an operation of the document and every operation is a route or
/// one of the WebSocket endpoints the server upgrades; the document reads, and the `/docs` page is
/// rendered from it with everything escaped.
@Suite(.timeLimit(.minutes(2)))
struct OpenAPICoverageTests {
    /// A method and a path, the path's parameters in braces and without a trailing slash (the
    /// router treats `/a/` and `/a` alike).
    struct Endpoint: Hashable, Comparable, CustomStringConvertible {
        let method: String
        let path: String

        init(_ method: String, _ path: String) {
            self.method = method.lowercased()
            var normalized = path.split(separator: "/", omittingEmptySubsequences: true).map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
            normalized = "/" + normalized
            self.path = normalized
        }

        var description: String { "\(method.uppercased()) \(path)" }

        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
    }

    /// The WebSocket endpoints, from the doors themselves: the paths the server's upgrade
    /// decision accepts (some also have a plain-HTTP route answering 426).
    static var webSocketEndpoints: Set<Endpoint> {
        var paths = OneBotDoor.webSocketPaths.map(\.path)
        paths += VoiceDoor.paths
        paths.append(StreamingASRDoor.path)
        paths += WebChatHandshake.pathPrefixes.map { $0 + "{client_id}" }
        return Set(paths.map { Endpoint("get", $0) })
    }

    /// The routes of the router `buildApplication` builds, with every door on.
    static func routerEndpoints() async throws -> Set<Endpoint> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-openapi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = try HubConfiguration.parse(
            yaml: """
                storage:
                  sqlite_path: "\(folder.appendingPathComponent("hub.sqlite").path)"
                  media_dir: "\(folder.appendingPathComponent("media").path)"
                admin: { api_key: adm1n }
                web: { enabled: true }
                llm: { providers: [ { name: fake, base_url: "http://127.0.0.1:9/v1", models: [ { name: model-a } ] } ] }
                """, environment: [:])
        let components = try HubComponents(configuration, logger: TestHub.logger)
        let router = buildRouter(components, logger: TestHub.logger)
        let endpoints = Set(router.routes.map { Endpoint($0.method.rawValue, $0.path.description) })
        // Nothing was started; the outbound clients still want their shutdown.
        try await components.httpClientService.fetcher.shutdown()
        try await components.httpClientService.client.shutdown()
        return endpoints
    }

    @Test func everyRouteIsInTheDocumentAndEveryOperationIsARoute() async throws {
        let document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
        let routes = try await Self.routerEndpoints()
        #expect(routes.count > 40, "the router looks empty: \(routes.sorted())")
        let served = routes.union(Self.webSocketEndpoints)
        let documented = Set(document.operations.map { Endpoint($0.method, $0.path) })

        func list(_ endpoints: some Collection<Endpoint>) -> String { endpoints.sorted().map(\.description).joined(separator: ", ") }
        let undocumented = served.subtracting(documented)
        #expect(undocumented.isEmpty, "routes the hub serves that Sources/Hub/Resources/openapi.yaml does not describe: \(list(undocumented))")
        let unserved = documented.subtracting(served)
        #expect(unserved.isEmpty, "operations in Sources/Hub/Resources/openapi.yaml that no route serves: \(list(unserved))")

        // The WebSocket endpoints, and only they, are marked as such.
        let markedWebSockets = Set(document.operations.filter(\.isWebSocket).map { Endpoint($0.method, $0.path) })
        let unmarked = Self.webSocketEndpoints.subtracting(markedWebSockets)
        #expect(unmarked.isEmpty, "WebSocket endpoints without `x-websocket: true`: \(list(unmarked))")
        let notWebSockets = markedWebSockets.subtracting(Self.webSocketEndpoints)
        #expect(notWebSockets.isEmpty, "`x-websocket: true` on what is no WebSocket endpoint: \(list(notWebSockets))")

        // Two spellings of one endpoint in the document (`/a/` and `/a`) would hide each other.
        let spellings = Dictionary(grouping: document.operations, by: { Endpoint($0.method, $0.path) }).filter { $0.value.count > 1 }
        #expect(spellings.isEmpty, "endpoints written twice: \(spellings.keys.sorted().map(\.description))")
    }

    @Test func everyOperationHasASummaryATagAndAnAnswerWithDescriptions() throws {
        let document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
        #expect(document.root["openapi"]?.string?.hasPrefix("3.1") == true)
        let tags = Set((document.root["tags"]?.array ?? []).compactMap { $0["name"]?.string })
        var operationIDs = Set<String>()
        for operation in document.operations {
            let name = "\(operation.method.uppercased()) \(operation.path)"
            #expect(operation.value["summary"]?.string?.isEmpty == false, "\(name) has no summary")
            let tag = operation.value["tags"]?.array?.first?.string
            #expect(tag.map(tags.contains) == true, "\(name) has no tag of the document's list: \(tag ?? "none")")
            let responses = operation.value["responses"]?.entries ?? []
            #expect(!responses.isEmpty, "\(name) answers nothing")
            for (status, response) in responses {
                #expect(document.dereferenced(response)["description"]?.string != nil, "\(name) \(status) has no description")
            }
            if operation.isWebSocket {
                #expect(responses.contains { $0.key == "101" }, "\(name) is a WebSocket endpoint without 101")
            }
            if let id = operation.value["operationId"]?.string {
                #expect(operationIDs.insert(id).inserted, "operationId \(id) is used twice")
            }
        }
        // Every local reference points at something.
        var references = [String]()
        func collect(_ value: OpenAPIValue) {
            switch value {
            case .object(let entries):
                for entry in entries {
                    if entry.key == "$ref", let reference = entry.value.string { references.append(reference) } else { collect(entry.value) }
                }
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(document.root)
        #expect(references.count > 100)
        for reference in Set(references) {
            #expect(document.resolve(reference) != nil, "\(reference) points nowhere")
        }
    }

    @Test func theDocsPageShowsEveryOperationEscaped() throws {
        let document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
        let page = OpenAPIPage(document)
        for operation in document.operations {
            #expect(page.html.contains("<code>\(OpenAPIPage.escape(operation.path))</code>"), "\(operation.path) is not on the page")
        }
        #expect(page.html.contains("id=\"schema-ChatCompletionRequest\""))
        #expect(page.html.contains("href=\"#schema-OpenAIError\""))
        #expect(!page.html.contains("<script"))
        #expect(page.contentSecurityPolicy.hasPrefix("default-src 'none'; style-src 'sha256-"))

        // Text from a document is escaped wherever it lands: titles, descriptions, names, values.
        let hostile = try OpenAPIDocument(
            yaml: #"""
                openapi: 3.1.0
                info: { title: "<script>alert(1)</script>", version: "1", description: "a `<b>` and **<i>**" }
                tags: [ { name: "x\"><img src=x onerror=alert(2)>", description: "<iframe>" } ]
                paths:
                  "/a/{b}<svg>":
                    get:
                      tags: ["x\"><img src=x onerror=alert(2)>"]
                      summary: "<marquee>"
                      parameters: [ { name: "<param>", in: query, schema: { type: string, enum: ["<x>", "'y'"] } } ]
                      responses: { "200": { description: "<hr>", content: { "text/html<a>": { schema: { $ref: "#/components/schemas/<c>" } } } } }
                components: { schemas: { "<c>": { type: object, properties: { "<d>": { type: string, description: "</code><script>" } } } } }
                """#)
        let html = OpenAPIPage(hostile).html
        for raw in ["<script", "<b>", "<i>", "<img", "<iframe", "<svg", "<marquee>", "<param>", "<x>", "<hr>", "<a>", "<c>", "<d>", "'y'"] {
            #expect(!html.contains(raw), "\(raw) reached the page unescaped")
        }
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("<code>&lt;b&gt;</code>"))
    }

    @Test func theDocumentAsJSONIsTheSameTree() throws {
        let document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
        let parsed = try JSONSerialization.jsonObject(with: Data(document.json.utf8)) as? [String: Any]
        let paths = try #require(parsed?["paths"] as? [String: Any])
        #expect(paths.count == document.root["paths"]?.entries?.count)
        let ready = (paths["/ready"] as? [String: Any])?["get"] as? [String: Any]
        #expect((ready?["responses"] as? [String: Any])?.keys.sorted() == ["200", "503"])
        let speed = (((parsed?["components"] as? [String: Any])?["schemas"] as? [String: Any])?["SynthesisRequest"] as? [String: Any])
            .flatMap { ($0["properties"] as? [String: Any])?["speed"] as? [String: Any] }
        #expect((speed?["minimum"] as? NSNumber)?.doubleValue == 0.25)
    }
}
