// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird

/// `GET /api/v1/system/resources` (behind the gateway's API keys): per lane what runs and waits,
/// its limits and its refusals so far; the process's CPU time, resident memory and uptime; and
/// every provider's state (breaker, rotation, latency, success rate) by kind.
struct ResourcesController: Sendable {
    let components: HubComponents
    let startedAt: ContinuousClock.Instant

    func addRoutes(to router: Router<HubRequestContext>) {
        let gateway = router.group().add(middleware: OpenAIKeyMiddleware<HubRequestContext>(keys: components.configuration.gateway.apiKeys.map(\.value)))
        gateway.get("/api/v1/system/resources") { _, _ in
            Response.json(.ok, report())
        }
    }

    func report() -> JSONValue {
        let lanes: [(String, LaneSnapshot)] = [
            ("realtime", components.realtimeLane.snapshot), ("cpu", components.speech.lane.snapshot), ("batch", components.images.jobs.snapshot),
            ("notices", components.noticeLane.snapshot),
        ]
        let speech = components.speech.engine
        return [
            "lanes": .object(
                Dictionary(
                    uniqueKeysWithValues: lanes.map { name, lane in
                        (
                            name,
                            [
                                "running": .int(Int64(lane.running)), "queued": .int(Int64(lane.queued)), "max_concurrent": .int(Int64(lane.maxConcurrent)),
                                "queue_limit": .int(Int64(lane.queueLimit)), "refused": .int(Int64(lane.refused)),
                            ] as JSONValue
                        )
                    })),
            "process": [
                "cpu_seconds": .double(Self.cpuSeconds()), "rss_bytes": Self.residentBytes().map { .int(Int64($0)) } ?? .null,
                "cores": .int(Int64(ProcessInfo.processInfo.activeProcessorCount)),
                "uptime_seconds": .double(Double((ContinuousClock.now - startedAt).nanoseconds) / 1e9),
            ],
            "providers": [
                "llm": .array(components.router.health.map(\.json)), "tts": .array(speech.synthesis.health.map(\.json)),
                "stt": .array(speech.recognition.health.map(\.json)), "image": .array(components.images.router.health.map(\.json)),
            ],
        ]
    }

    /// User and system CPU time of the process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resident memory, from `/proc/self/statm` (pages); nil where there is no such file.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
