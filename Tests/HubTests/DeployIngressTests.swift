// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing
import Yams

@testable import Hub

/// The Kubernetes ingress (`deploy/k8s/ingress.yaml`) lists the paths the hub serves outside:
/// every route of the hub's router and every WebSocket door must be reachable through it, and
/// `/metrics` must not be (Prometheus scrapes the pod inside the cluster).
@Suite struct DeployIngressTests {
    /// One path of the ingress, matched as Kubernetes defines `Exact` and `Prefix` (by `/`-separated
    /// elements, a trailing slash ignored).
    struct IngressPath {
        let path: String
        let exact: Bool

        func matches(_ request: String) -> Bool {
            if exact { return request == path }
            let prefix = path.split(separator: "/")
            let elements = request.split(separator: "/")
            return elements.count >= prefix.count && Array(elements.prefix(prefix.count)) == prefix
        }
    }

    static func ingressPaths() throws -> [IngressPath] {
        let url = DeployMetricsTests.root.appendingPathComponent("deploy/k8s/ingress.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let spec = try #require(document["spec"] as? [String: Any])
        let rules = try #require(spec["rules"] as? [[String: Any]])
        return try rules.flatMap { rule -> [IngressPath] in
            let http = try #require(rule["http"] as? [String: Any])
            let paths = try #require(http["paths"] as? [[String: Any]])
            return try paths.map { entry in
                let path = try #require(entry["path"] as? String)
                let type = try #require(entry["pathType"] as? String)
                #expect(type == "Exact" || type == "Prefix", "\(path): pathType \(type)")
                let backend = (entry["backend"] as? [String: Any])?["service"] as? [String: Any]
                #expect(backend?["name"] as? String == "hub", "\(path) goes to \(String(describing: backend))")
                return IngressPath(path: path, exact: type == "Exact")
            }
        }
    }

    @Test func everyRouteButMetricsIsReachableThroughTheIngress() async throws {
        let paths = try Self.ingressPaths()
        let served = try await OpenAPICoverageTests.routerEndpoints().union(OpenAPICoverageTests.webSocketEndpoints)
        // A request path for each route: its parameters filled in.
        let requests = Set(served.map { endpoint in
            endpoint.path.split(separator: "/").map { $0.hasPrefix("{") ? "x" : String($0) }.reduce("") { $0 + "/" + $1 }
        }).map { $0.isEmpty ? "/" : $0 }
        #expect(requests.contains("/metrics") && requests.count > 30, "\(requests.sorted())")

        let missing = requests.filter { request in request != "/metrics" && !paths.contains { $0.matches(request) } }.sorted()
        #expect(missing.isEmpty, "routes deploy/k8s/ingress.yaml does not let in: \(missing)")
        #expect(!paths.contains { $0.matches("/metrics") }, "deploy/k8s/ingress.yaml lets /metrics out")
        // What the matching itself must do, so that the checks above mean something.
        #expect(IngressPath(path: "/api", exact: false).matches("/api/v1/x"))
        #expect(!IngressPath(path: "/api", exact: false).matches("/apix"))
        #expect(!IngressPath(path: "/", exact: true).matches("/metrics"))
    }
}
