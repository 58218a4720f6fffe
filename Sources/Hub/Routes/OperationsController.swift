// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Hummingbird
import NIOCore

/// `/health`, `/ready` and `/metrics`.
struct OperationsController: Sendable {
    let components: HubComponents

    func addRoutes(to router: Router<HubRequestContext>) {
        router.get("/health") { _, _ in
            Self.json(.ok, ["status": "ok"])
        }
        router.get("/ready") { _, _ in
            // Redis is optional: the hub answers without it, so it never makes the hub unready.
            let cacheCheck: JSONValue =
                switch components.redis {
                case nil: "in-process"
                case let redis? where redis.isUp: "redis: ok"
                case let redis?: .string("redis: down, using the in-process fallback (\(redis.lastError))")
                }
            let storage = await components.store.isHealthy()
            let llm = !components.models.isEmpty
            let ready = storage && llm
            let body: JSONValue = [
                "ready": .bool(ready),
                "checks": [
                    "storage": .string(storage ? "ok" : "unavailable"),
                    "llm": .string(llm ? "ok" : "no provider configured"),
                    "cache": cacheCheck,
                ],
                "bots": .array(components.oneBot.registry.connectedBots.map { .int($0) }),
            ]
            return Self.json(ready ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ in
            var buffer = [UInt8]()
            components.metricsRegistry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var bytes = [UInt8]()
        value.write(into: &bytes)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
