// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Hub

/// The image path as an operator and a client meet it, over real sockets with a
/// ``FakeImageService`` as the providers: job outcomes, refusals and the `batch` lane in a live
/// hub's `/metrics` (each hub has a registry of its own); result URLs over the guarded fetcher's
/// size and time caps; pictures and tasks gone after `storage.media_ttl`; priorities through
/// `POST /api/v1/image/generate`; the OpenAI route's answer to a failed job; and a Stable
/// Diffusion WebUI provider end to end.
@Suite(.timeLimit(.minutes(2)))
struct ImageJobsOperationsTests {
    /// The states a task ends in.
    static let ended: Set<String> = ["succeeded", "failed", "cancelled"]

    // MARK: Metrics

    @Test func jobOutcomesRefusalsAndTheBatchLaneShowInMetrics() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("scripted", "scripted")], image: ["job_attempts: 2"], batch: "{ max_concurrent: 1, queue: 2 }")
            try await TestHub.run(configuration) { port, _ in
                // A success, a failure after both attempts, a success at the second attempt: 5 attempts.
                for (prompt, outcome) in [("a plain kite", "succeeded"), ("fail: a doomed kite", "failed"), ("flaky: a lucky kite", "succeeded")] {
                    let id = try await ImageHub.submit(port, prompt: prompt)
                    let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                    #expect(finished["status"] == .string(outcome), "\(prompt): \(finished.compactJSON)")
                }
                // One job held upstream, two queued behind it, one refused; then both a queued and
                // the running one cancelled, and the other queued one left to succeed: 2 attempts.
                service.hold()
                let held = try await ImageHub.submit(port, prompt: "a held kite")
                try await service.waitForRequest("a held kite")
                let kept = try await ImageHub.submit(port, prompt: "a queued kite")
                let dropped = try await ImageHub.submit(port, prompt: "a dropped kite")
                let busy = try await Self.scrape(port)
                #expect(busy.value("hub_lane_queued", ["lane": "batch"]) == 2, "\(busy.samples("hub_lane_queued", matching: [:]))")
                #expect(busy.value("hub_lane_running", ["lane": "batch"]) == 1, "\(busy.samples("hub_lane_running", matching: [:]))")
                let refused = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: ImageHub.body("a refused kite"))
                #expect(refused.status == 429, "\(refused)")
                for id in [dropped, held] {
                    let cancelled = try await ImageHub.call(port, .DELETE, "/api/v1/task/status/\(id)")
                    #expect(cancelled.status == 200 && cancelled.json?["status"] == "cancelled", "\(cancelled)")
                }
                service.release()
                #expect(try await ImageHub.waitForStatus(port, id: kept, Self.ended)["status"] == "succeeded")

                let outcomes: [String: Double] = ["succeeded": 3, "failed": 1, "retried": 2, "cancelled": 2]
                let attempts = 7.0
                // Outcomes are counted just after a task's end is stored: scrape until they are all in (bounded).
                let scrape = try await Self.scrape(port) { scrape in
                    outcomes.allSatisfy { scrape.value("hub_jobs_total", ["kind": "image", "outcome": $0.key]) == $0.value }
                        && scrape.value("hub_lane_run_seconds_count", ["lane": "batch"]) == attempts
                        && scrape.value("hub_lane_running", ["lane": "batch"]) == 0
                }
                for (outcome, count) in outcomes.sorted(by: { $0.key < $1.key }) {
                    #expect(
                        scrape.value("hub_jobs_total", ["kind": "image", "outcome": outcome]) == count,
                        "\(outcome): \(scrape.samples("hub_jobs_total", matching: [:]))")
                }
                #expect(scrape.samples("hub_jobs_total", matching: [:]).count == outcomes.count, "no other outcome or kind")
                #expect(scrape.value("hub_lane_refused_total", ["lane": "batch"]) == 1, "\(scrape.samples("hub_lane_refused_total", matching: [:]))")
                #expect(scrape.value("hub_lane_queued", ["lane": "batch"]) == 0)
                #expect(scrape.value("hub_lane_running", ["lane": "batch"]) == 0)
                // Every attempt waited once and ran once; the buckets are cumulative and end at the count.
                for histogram in ["hub_lane_wait_seconds", "hub_lane_run_seconds"] {
                    let count = scrape.value("\(histogram)_count", ["lane": "batch"])
                    #expect(count == attempts, "\(histogram): \(String(describing: count))")
                    let buckets = scrape.buckets(histogram, ["lane": "batch"])
                    #expect(buckets.count > 2 && buckets.last?.upperBound == .infinity && buckets.last?.count == attempts, "\(histogram): \(buckets)")
                    #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.count <= $1.count }, "\(histogram): \(buckets)")
                    let sum = scrape.value("\(histogram)_sum", ["lane": "batch"]) ?? -1
                    #expect(sum >= 0 && sum < 60, "\(histogram)_sum: \(sum)")
                }
                // The queued kite waited for the held one to be cancelled: at least one wait is not instant.
                let waits = scrape.buckets("hub_lane_wait_seconds", ["lane": "batch"])
                #expect((waits.first?.count ?? attempts) < attempts, "\(waits)")

                let batch = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"]?["batch"])
                #expect(batch["refused"] == 1 && batch["queued"] == 0 && batch["running"] == 0, "\(batch.compactJSON)")
                #expect(service.count("a dropped kite") == 0 && service.count("a refused kite") == 0, "\(service.requests.map(\.prompt))")
            }
        }
    }

    // MARK: Result URLs

    /// The fetch caps for result URLs: loopback allowed (`voice.allowed_hosts`), bodies capped at
    /// 64 KiB (`stt.max_upload_bytes`, the cap of every guarded fetch).
    static let fetchCaps = "voice: { allowed_hosts: [ 127.0.0.1 ] }\nstt: { max_upload_bytes: 65536 }"

    @Test(arguments: ["big", "big-chunked"])
    func aResultURLServingTooMuchFailsItsProviderAndTheNextAnswers(kind: String) async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("huge", "url-\(kind)"), ("fetched", "url-ok")], image: ["job_attempts: 1"], extra: Self.fetchCaps)
            try await TestHub.run(configuration) { port, _ in
                let id = try await ImageHub.submit(port, prompt: "a kite by URL")
                let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                #expect(finished["status"] == "succeeded" && finished["attempts"] == 1, "\(finished.compactJSON)")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                // The second provider's picture, fetched from its loopback URL under the same policy.
                #expect(try await ImageHub.get(url).body == FakeImageService.png(for: "a kite by URL"))
                #expect(service.fileFetches == [kind, "ok"], "\(service.fileFetches)")
                try await Self.expectHealth(port, failed: "huge", answered: "fetched")
            }
        }
    }

    @Test func aStalledResultURLFailsItsProviderInTimeAndTheNextAnswers() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("stuck", "url-stall"), ("fetched", "url-ok")], image: ["job_attempts: 1"], extra: Self.fetchCaps,
                timeouts: ["stuck": 1.5])
            try await TestHub.run(configuration) { port, _ in
                let started = ContinuousClock.now
                let id = try await ImageHub.submit(port, prompt: "a kite held up")
                let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                #expect(finished["status"] == "succeeded" && finished["attempts"] == 1, "\(finished.compactJSON)")
                // The stalled body (60 s) was cut at the provider's 1.5 s.
                #expect(ContinuousClock.now - started < .seconds(15))
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                #expect(try await ImageHub.get(url).body == FakeImageService.png(for: "a kite held up"))
                #expect(service.fileFetches == ["stall", "ok"], "\(service.fileFetches)")
                try await Self.expectHealth(port, failed: "stuck", answered: "fetched")
            }
        }
    }

    @Test(arguments: [
        ("big", "too_large"), ("big-chunked", "too_large"), ("stall", "the image service did not answer in time"),
    ])
    func withOneProviderAResultURLOverTheCapsFailsTheTaskClearly(kind: String, words: String) async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("only", "url-\(kind)")], image: ["job_attempts: 1"], extra: Self.fetchCaps, timeouts: ["only": 1.5])
            try await TestHub.run(configuration) { port, _ in
                let id = try await ImageHub.submit(port, prompt: "a kite out of bounds")
                let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                #expect(finished["status"] == "failed", "\(finished.compactJSON)")
                let error = finished["error"]?.stringValue ?? ""
                #expect(error.contains(words), "\(error)")
                if kind != "stall" {
                    // Names the cap, and that the URL was refused rather than the service unreachable.
                    #expect(error.contains("result URL refused") && error.contains("65536"), "\(error)")
                }
                #expect(finished["result"]?["images"] == .array([]))
                #expect(service.fileFetches == [kind], "the URL was fetched, and the fetch was cut: \(service.fileFetches)")
            }
        }
    }

    // MARK: Media TTL

    @Test func aPictureAndItsTaskAreGoneAfterTheMediaTTL() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let folder = ImageHub.folder()
            let configuration = try HubConfiguration.parse(
                yaml: ImageHub.yaml(folder: folder, service: base, providers: [("good", "ok")]), environment: ["HUB_STORAGE_MEDIA_TTL": "2"])
            #expect(configuration.storage.mediaTTL == 2)
            try await TestHub.run(configuration) { port, _ in
                let id = try await ImageHub.submit(port, prompt: "a fleeting kite")
                let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                #expect(finished["status"] == "succeeded", "\(finished.compactJSON)")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                let media = folder.appendingPathComponent("media")
                let name = String(url.split(separator: "/").last ?? "")
                #expect(try FileManager.default.contentsOfDirectory(atPath: media.path) == [name])
                let served = try await ImageHub.get(url)
                #expect(served.status == 200 && served.body == FakeImageService.png(for: "a fleeting kite"), "\(served.status)")

                // The sweep runs every second: the picture goes once it is older than 2 s.
                var gone = served
                try await ImageHub.until("the picture swept", timeout: .seconds(20)) {
                    gone = try await ImageHub.get(url)
                    return gone.status != 200
                }
                #expect(gone.status == 404 && gone.errorMessage?.contains("limited time") == true, "\(gone)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: media.path).isEmpty)
                // The task went with it (the same sweep forgets jobs finished before the cut-off).
                let status = try await ImageHub.call(port, .GET, "/api/v1/task/status/\(id)")
                #expect(status.status == 404 && status.errorMessage == "No task \(id).", "\(status)")
            }
        }
    }

    // MARK: Priorities

    @Test func priorityOrdersTheQueueOverHTTP() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")], batch: "{ max_concurrent: 1, queue: 16 }")
            try await TestHub.run(configuration) { port, _ in
                service.hold()
                let blocker = try await ImageHub.submit(port, prompt: "the blocking kite")
                try await service.waitForRequest("the blocking kite")
                var ids = [String: String]()
                // Each answer's position is its place among those waiting when it came.
                for (priority, position) in [("normal", 1), ("low", 2), ("high", 1)] {
                    let answer = try await ImageHub.call(
                        port, .POST, "/api/v1/image/generate", body: ImageHub.body("a \(priority) kite", priority: priority))
                    #expect(answer.status == 202 && answer.json?["position"] == .int(Int64(position)), "\(priority): \(answer)")
                    ids[priority] = try #require(answer.json?["task_id"]?.stringValue)
                }
                for (priority, position) in [("high", 1), ("normal", 2), ("low", 3)] {
                    let status = try await ImageHub.status(port, id: try #require(ids[priority]))
                    #expect(status["position"] == .int(Int64(position)) && status["priority"] == .string(priority), "\(status.compactJSON)")
                }
                service.release()
                for id in [blocker] + ids.values {
                    #expect(try await ImageHub.waitForStatus(port, id: id, Self.ended)["status"] == "succeeded")
                }
                #expect(service.requests.map(\.prompt) == ["the blocking kite", "a high kite", "a normal kite", "a low kite"])
            }
        }
    }

    // MARK: OpenAI's shape

    @Test(arguments: ["url", "b64_json"])
    func openAIGenerationsAnswer502WhenTheJobFails(format: String) async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("broken", "fail")], image: ["job_attempts: 1"])
            try await TestHub.run(configuration) { port, _ in
                let body = JSONValue.object(["prompt": "a doomed lighthouse", "size": "64x64", "response_format": .string(format)])
                let answer = try await ImageHub.call(port, .POST, "/v1/images/generations", body: body.compactJSON)
                #expect(answer.status == 502, "\(answer)")
                #expect(answer.header("content-type")?.hasPrefix("application/json") == true, "\(answer)")
                let error = try #require(answer.json?["error"], "\(answer)")
                #expect(error["type"] == "api_error" && error["code"] == "image_generation_failed", "\(answer)")
                #expect(error["message"] == "The picture could not be made: the image service answered HTTP 500: GPU on fire", "\(answer)")
                #expect(answer.json?["data"] == nil)
                #expect(service.count("a doomed lighthouse") == 1)
            }
        }
    }

    // MARK: Stable Diffusion WebUI

    @Test func aStableDiffusionWebUIProviderDrawsAServedPicture() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("sd-down", "fail"), ("sd", "ok")], image: ["job_attempts: 1"],
                kinds: ["sd-down": "sdwebui", "sd": "sdwebui"])
            try await TestHub.run(configuration) { port, _ in
                let body: JSONValue = [
                    "prompt": "a castle at dawn", "negative_prompt": "fog", "width": 128, "height": 64, "steps": 7, "seed": 42, "priority": "high",
                ]
                let submitted = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: body.compactJSON)
                #expect(submitted.status == 202, "\(submitted)")
                let id = try #require(submitted.json?["task_id"]?.stringValue)
                let finished = try await ImageHub.waitForStatus(port, id: id, Self.ended)
                #expect(finished["status"] == "succeeded" && finished["attempts"] == 1, "\(finished.compactJSON)")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                #expect(url.hasPrefix("http://127.0.0.1:\(port)/media/") && url.hasSuffix(".png"), "\(url)")
                let picture = try await ImageHub.get(url)
                #expect(picture.status == 200 && picture.header("content-type") == "image/png")
                #expect(picture.body == FakeImageService.png(for: "a castle at dawn"), "the WebUI's picture, byte for byte")

                // Both went to the WebUI's door, the failing one first, with the request's settings.
                let requests = service.requests
                #expect(requests.map(\.behaviour) == ["fail", "ok"] && requests.allSatisfy { $0.api == "sdwebui" }, "\(requests)")
                let sent = try #require(requests.last?.body)
                #expect(sent["prompt"] == "a castle at dawn" && sent["negative_prompt"] == "fog", "\(sent.compactJSON)")
                #expect(sent["width"] == 128 && sent["height"] == 64 && sent["steps"] == 7 && sent["seed"] == 42, "\(sent.compactJSON)")
                #expect(sent["batch_size"] == 1, "\(sent.compactJSON)")
                try await Self.expectHealth(port, failed: "sd-down", answered: "sd")
            }
        }
    }

    // MARK: Helpers

    /// `GET /metrics`.
    static func scrape(_ port: Int) async throws -> MetricsScrape {
        let answer = try await ImageHub.call(port, .GET, "/metrics")
        try #require(answer.status == 200, "\(answer)")
        return MetricsScrape(answer.text)
    }

    /// Scrapes until `settled` holds or `timeout` passes; returns the last scrape either way, so
    /// the checks that follow say what is missing.
    static func scrape(_ port: Int, timeout: Duration = .seconds(10), until settled: (MetricsScrape) -> Bool) async throws -> MetricsScrape {
        let deadline = ContinuousClock.now + timeout
        while true {
            let latest = try await Self.scrape(port)
            if settled(latest) || ContinuousClock.now >= deadline { return latest }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The resources report counts one failure for `failed` and one success for `answered`.
    static func expectHealth(_ port: Int, failed: String, answered: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let resources = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json)
        let providers = resources["providers"]?["image"]?.arrayValue ?? []
        let bad = providers.first { $0["provider"] == .string(failed) }
        let good = providers.first { $0["provider"] == .string(answered) }
        #expect(bad?["failures"] == 1 && bad?["successes"] == 0, "\(providers)", sourceLocation: sourceLocation)
        #expect(good?["successes"] == 1 && good?["failures"] == 0, "\(providers)", sourceLocation: sourceLocation)
    }
}
