// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation

/// `GET /admin/bots`: every OneBot bot the hub knows of, connected or not.
///
/// A bot is listed when it has a live reverse-WebSocket connection, sent a heartbeat since the
/// hub started (over WebSocket or HTTP POST), has a forward HTTP API configured, or has replies
/// waiting in the outbox. Times are seconds since 1970 (with `now`, the hub's clock, to compare).
///
/// ```json
/// {"now": 1717000000.5, "bots": [{"self_id": "3847291056", "connected": true, "kinds": ["universal"],
///   "connections": [{"kind": "universal", "connected_at": …, "last_frame_at": …, "heartbeat_interval_ms": 5000,
///                    "pending_actions": 0, "generation": 1}],
///   "last_heartbeat_at": …, "heartbeat_interval_ms": 5000, "heartbeat_via": "ws", "qq_online": true, "stale": false,
///   "http_api": false, "outbox": {"pending": 0, "oldest_at": null}}]}
/// ```
struct AdminBotsReport: Sendable {
    let door: OneBotDoor
    let outbox: Outbox

    func json() async throws -> JSONValue {
        let connections = Dictionary(grouping: door.registry.connections, by: \.selfID)
        let statuses = door.botStatuses
        let waiting = try await outbox.backlog(platform: .qq)
        let backlog = Dictionary(waiting.compactMap { entry in Int64(entry.bot).map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
        let httpAPI = door.settings.httpAPI
        let bots = Set(connections.keys).union(statuses.keys).union(backlog.keys).union(httpAPI.keys).sorted()
        return [
            "now": .seconds(Date()),
            "bots": .array(
                bots.map { selfID in
                    bot(selfID, connections: connections[selfID] ?? [], status: statuses[selfID], backlog: backlog[selfID], httpAPI: httpAPI[selfID] != nil)
                }),
        ]
    }

    private func bot(_ selfID: Int64, connections: [OneBotConnection], status: OneBotDoor.BotStatus?, backlog: OutboxBacklog?, httpAPI: Bool) -> JSONValue {
        var kinds = connections.map { $0.role.rawValue.lowercased() }
        if httpAPI || status?.heartbeatTransport == "http" { kinds.append("http") }
        return [
            "self_id": .string(String(selfID)),
            "connected": .bool(!connections.isEmpty),
            "kinds": .array(kinds.map(JSONValue.string)),
            "connections": .array(
                connections.map { connection in
                    [
                        "kind": .string(connection.role.rawValue.lowercased()), "connected_at": .seconds(connection.connectedAt),
                        "last_frame_at": .seconds(connection.lastFrameDate),
                        "heartbeat_interval_ms": connection.heartbeatIntervalMilliseconds.map { .int($0) } ?? .null,
                        "pending_actions": .int(Int64(connection.pendingActions)), "generation": .int(Int64(connection.generation)),
                    ]
                }),
            "last_heartbeat_at": status?.lastHeartbeat.map { .seconds($0) } ?? .null,
            "heartbeat_interval_ms": status?.heartbeatIntervalMilliseconds.map { .int($0) } ?? .null,
            "heartbeat_via": status?.heartbeatTransport.map { .string($0) } ?? .null,
            "qq_online": status?.online.map { .bool($0) } ?? .null,
            "stale": .bool(status?.stale ?? false),
            "http_api": .bool(httpAPI),
            "outbox": [
                "pending": .int(Int64(backlog?.pending ?? 0)), "oldest_at": backlog.map { .seconds($0.oldest) } ?? .null,
            ],
        ]
    }
}

extension JSONValue {
    /// A time as seconds since 1970, to the millisecond.
    static func seconds(_ date: Date) -> JSONValue {
        .double((date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}
