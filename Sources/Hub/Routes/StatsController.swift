// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird

/// `/stats` (the LLM's public totals) and, behind the admin bearer key, `/admin/stats` (by kind,
/// provider, model and outcome) and `/admin/providers` (each route of every kind, `llm`, `tts`,
/// `stt` and `image`: breaker, rotation, latency and success rate).
struct StatsController: Sendable {
    let usage: UsageLedger
    /// Every route's health, by kind (``HubComponents/routeHealth``).
    let routes: @Sendable () -> [(kind: String, health: RouteHealth)]
    /// `admin.api_key`; nil: the admin API is off (every call 403).
    let adminKey: String?

    func addRoutes(to router: Router<HubRequestContext>) {
        router.get("/stats") { _, _ in
            // The usage table holds speech and image attempts too; these totals are the LLM's.
            let rows = try await usage.summary().filter { $0.kind == "llm" }
            let requests = rows.reduce(0) { $0 + $1.requests }
            let answered = rows.filter { $0.outcome == "ok" }.reduce(0) { $0 + $1.requests }
            // A caller that went away is no failure of the providers: not counted in the rate.
            let cancelled = rows.filter { $0.outcome == "cancelled" }.reduce(0) { $0 + $1.requests }
            let decided = requests - cancelled
            let body: JSONValue = [
                "llm": [
                    "attempts": .int(Int64(requests)),
                    "answered": .int(Int64(answered)),
                    "cancelled": .int(Int64(cancelled)),
                    "success_rate": .double(decided == 0 ? 1 : Double(answered) / Double(decided)),
                    "prompt_tokens": .int(Int64(rows.reduce(0) { $0 + $1.promptTokens })),
                    "completion_tokens": .int(Int64(rows.reduce(0) { $0 + $1.completionTokens })),
                ]
            ]
            return Response.json(.ok, body)
        }
        let admin = router.group("/admin").add(
            middleware: AccessTokenMiddleware(
                token: adminKey, name: "admin key", whenUnset: .closed("the admin API is off: set admin.api_key (HUB_ADMIN_API_KEY)")))
        admin.get("stats") { _, _ in
            let rows = try await usage.summary()
            return Response.json(
                .ok,
                [
                    "usage": .array(
                        rows.map { row in
                            [
                                "kind": .string(row.kind), "provider": .string(row.provider), "model": .string(row.model),
                                "outcome": .string(row.outcome),
                                "requests": .int(Int64(row.requests)), "prompt_tokens": .int(Int64(row.promptTokens)),
                                "completion_tokens": .int(Int64(row.completionTokens)), "cost": .double(row.cost),
                                "average_latency_ms": .double(row.averageLatencyMilliseconds),
                            ]
                        })
                ])
        }
        admin.get("providers") { _, _ in
            Response.json(
                .ok,
                [
                    "routes": .array(
                        routes().map { $0.health.json(kind: $0.kind) })
                ])
        }
    }
}

extension RouteHealth {
    /// A route as the admin and resources APIs show it.
    var json: JSONValue { json(kind: nil) }

    /// A route as the admin and resources APIs show it, with its `kind` when given.
    func json(kind: String?) -> JSONValue {
        var object: [String: JSONValue] = [
            "provider": .string(provider), "model": .string(model), "breaker": .string(breaker),
            "in_rotation": .bool(!disabled),
            "healthy": .bool(!disabled && breaker != "open"),
            "average_latency_ms": statistics.averageLatency.map { .double($0 * 1000) } ?? .null,
            "success_rate": .double(statistics.successRate), "in_flight": .int(Int64(statistics.inFlight)),
            "successes": .int(Int64(statistics.successes)), "failures": .int(Int64(statistics.failures)),
        ]
        if let kind { object["kind"] = .string(kind) }
        return .object(object)
    }
}
