// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import Logging

/// The admin API the dashboard (`/admin`) reads, behind the admin bearer key like `/admin/stats`
/// and `/admin/providers` (``StatsController``):
///
/// - `GET /admin/bots`: connected OneBot bots, their heartbeats and outbox (``AdminBotsReport``).
/// - `GET /admin/usage?hours=&bucket=&kind=`: usage over time (``AdminUsageReport``).
/// - `GET /admin/lanes`: each lane's running, queued and refused work, the other queues, and the
///   process (CPU, memory, uptime).
/// - `GET /admin/errors?limit=`: the last warnings and errors the hub logged, newest first
///   (``RecentLogs``; at most its capacity, 200).
struct AdminController: Sendable {
    let components: HubComponents
    let resources: ResourcesController

    func addRoutes(to router: Router<HubRequestContext>) {
        let admin = router.group("/admin").add(
            middleware: AccessTokenMiddleware(
                token: components.configuration.admin.apiKey?.value, name: "admin key",
                whenUnset: .closed("the admin API is off: set admin.api_key (HUB_ADMIN_API_KEY)")))
        admin.get("bots") { _, _ in
            Response.json(.ok, try await AdminBotsReport(door: components.oneBot, outbox: components.outbox).json())
        }
        admin.get("usage") { request, _ in
            let report = try AdminUsageReport(query: request.uri)
            return Response.json(.ok, try await report.json(from: components.usage))
        }
        admin.get("lanes") { _, _ in
            Response.json(.ok, try await lanes())
        }
        admin.get("errors") { request, _ in
            let capacity = components.recentLogs.capacity
            var limit = capacity
            if let text = request.uri.queryParameters.get("limit") {
                guard let number = Int(text), (1...capacity).contains(number) else {
                    throw HubError(.badRequest, "limit must be a whole number from 1 to \(capacity)")
                }
                limit = number
            }
            return Response.json(.ok, errors(limit: limit))
        }
    }

    /// The lanes and the process as `/api/v1/system/resources` reports them, and the queues beside
    /// the lanes: replies waiting for offline bots, usage records not written yet, sessions with a
    /// turn running or waiting.
    func lanes() async throws -> JSONValue {
        let report = resources.report()
        return [
            "now": .seconds(Date()),
            "lanes": report["lanes"] ?? [:],
            "queues": [
                "outbox": .int(Int64(try await components.outbox.count())),
                "usage_unwritten": .int(Int64(components.usage.pending)),
                "active_sessions": .int(Int64(components.engine.activeSessions)),
            ],
            "process": report["process"] ?? [:],
        ]
    }

    func errors(limit: Int) -> JSONValue {
        let recent = components.recentLogs
        return [
            "now": .seconds(Date()), "capacity": .int(Int64(recent.capacity)), "total": .int(Int64(recent.total)),
            "entries": .array(
                recent.entries(limit: limit).map { entry in
                    [
                        "id": .int(Int64(entry.id)), "at": .seconds(entry.at), "level": .string(entry.level.rawValue),
                        "message": .string(entry.message), "source": .string(entry.source),
                        "metadata": .object(entry.metadata.mapValues(JSONValue.string)),
                    ]
                }),
        ]
    }
}
