// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/health`, `/api/health`, `/ready` and `/metrics`.
struct OperationsController: Sendable {
    let components: HubComponents

    func addRoutes(to router: Router<HubRequestContext>) {
        router.get("/health") { _, _ in
            Response.json(.ok, ["status": "ok"])
        }
        router.get("/api/health") { _, _ in
            await health()
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
                    // Speech is reported, not required: chat works without it.
                    "tts": .string(Self.status(of: components.speech.engine.synthesis.health, what: "speech synthesizer").detail),
                    "stt": .string(Self.status(of: components.speech.engine.recognition.health, what: "speech recognizer").detail),
                ],
                "bots": .array(components.oneBot.registry.connectedBots.map { .int($0) }),
            ]
            return Response.json(ready ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ in
            recordRoutes()
            var buffer = [UInt8]()
            components.metricsRegistry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    /// Every provider route's breaker and rotation, read from the routers as `/metrics` is served.
    private func recordRoutes() {
        let speech = components.speech.engine
        let routes: [(kind: String, health: [RouteHealth])] = [
            ("llm", components.router.health), ("tts", speech.synthesis.health), ("stt", speech.recognition.health),
            ("image", components.images.router.health),
        ]
        for (kind, health) in routes {
            for route in health { components.metrics.route(kind: kind, route) }
        }
    }

    /// `/api/health` in the seed's shape: an overall `status` (`healthy`, `degraded` or `unhealthy`;
    /// 503 when unhealthy), a `timestamp`, one status word per service and a line on each in `details`.
    /// Chat needs storage and an LLM route; the cache degrades to in process; speech is reported but
    /// does not decide the overall status.
    private func health() async -> Response {
        var services = [String: JSONValue]()
        var details = [String: JSONValue]()
        func report(_ service: String, _ status: String, _ detail: String) {
            services[service] = .string(status)
            details[service] = .string(detail)
        }
        let storage = await components.store.isHealthy()
        report("storage", storage ? "healthy" : "unhealthy", storage ? "SQLite \(components.configuration.storage.sqlitePath)" : "SQLite cannot be read")
        let llm = Self.status(of: components.router.health, what: "LLM provider")
        report("llm", llm.status, llm.detail)
        switch components.redis {
        case nil: report("cache", "healthy", "in process")
        case let redis? where redis.isUp: report("cache", "healthy", "Redis")
        case let redis?: report("cache", "degraded", "Redis down, using the in-process fallback (\(redis.lastError))")
        }
        let speech = components.speech.engine
        let tts = Self.status(of: speech.synthesis.health, what: "speech synthesizer")
        report("tts", tts.status, tts.detail)
        let stt = Self.status(of: speech.recognition.health, what: "speech recognizer")
        report("stt", stt.status, stt.detail)
        let essential = [services["storage"], services["llm"], services["cache"]].compactMap { $0?.stringValue }
        let status = essential.contains("unhealthy") ? "unhealthy" : essential.contains("degraded") ? "degraded" : "healthy"
        let body: JSONValue = [
            "status": .string(status), "timestamp": .string(Date().formatted(.iso8601)), "services": .object(services),
            "details": .object(details),
        ]
        return Response.json(status == "unhealthy" ? .serviceUnavailable : .ok, body)
    }

    /// A provider kind's status word and detail from its routes: unhealthy when none is configured
    /// or none is usable (out of rotation, breaker open), degraded when some are not.
    static func status(of routes: [RouteHealth], what: String) -> (status: String, detail: String) {
        let usable = routes.filter { !$0.disabled && $0.breaker != "open" }.count
        switch (routes.count, usable) {
        case (0, _): return ("unhealthy", "no \(what) configured")
        case (_, 0): return ("unhealthy", "every route is out of rotation or has its breaker open")
        case (let all, let up) where up < all: return ("degraded", "\(up) of \(all) routes usable")
        case (let all, _): return ("healthy", "\(all) route\(all == 1 ? "" : "s") usable")
        }
    }
}
