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

/// The image routes over real sockets: a hub on a loopback port with a ``FakeImageService`` as its
/// image provider. Tasks are queued, polled, cancelled and refused; their pictures are served at
/// `/media/`; bad requests are 4xx JSON errors; keys are enforced; the resources report is whole.
@Suite(.timeLimit(.minutes(2)))
struct ImageJobsTests {
    // MARK: The life of a task

    @Test func aTaskIsQueuedPolledAndItsPictureServed() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")])
            try await TestHub.run(configuration) { port, _ in
                let submitted = try await ImageHub.call(
                    port, .POST, "/api/v1/image/generate", body: #"{"prompt":"a red kite","width":64,"height":64}"#)
                #expect(submitted.status == 202, "\(submitted)")
                let id = try #require(submitted.json?["task_id"]?.stringValue)
                #expect(JobRecord.isValidID(id), "\(id)")
                #expect(submitted.json?["status"] == "queued")
                #expect((submitted.json?["position"]?.int64Value ?? 0) >= 1, "\(submitted)")
                let location = try #require(submitted.header("location"))
                #expect(location == "/api/v1/task/status/\(id)")

                let finished = try await ImageHub.waitForStatus(port, location: location, ["succeeded", "failed", "cancelled"])
                #expect(finished["status"] == "succeeded", "\(finished.compactJSON)")
                #expect(finished["task_id"] == .string(id))
                #expect(finished["type"] == "image")
                #expect(finished["attempts"] == 1)
                #expect(finished["progress"]?.doubleValue == 1)
                #expect(finished["error"] == .null)
                #expect(finished["started_at"]?.stringValue != nil && finished["finished_at"]?.stringValue != nil, "\(finished.compactJSON)")
                let images = finished["result"]?["images"]?.arrayValue ?? []
                #expect(images.count == 1)
                let url = try #require(images.first?.stringValue)
                #expect(url.hasPrefix("http://127.0.0.1:\(port)/media/") && url.hasSuffix(".png"), "\(url)")

                let picture = try await ImageHub.get(url)
                #expect(picture.status == 200)
                #expect(picture.header("content-type") == "image/png")
                #expect(picture.body == FakeImageService.png(for: "a red kite"), "the upstream's picture, byte for byte")
                #expect(service.requests.map(\.prompt) == ["a red kite"])

                // Names the store never makes, or has no file for: 404 with a JSON error.
                let mediaID = String(url.split(separator: "/").last!.prefix(32))
                for name in [
                    "nope", "nope.png", "\(id).png", "\(mediaID).gif", "\(mediaID).PNG", mediaID, "\(mediaID).png.png", "..%2F..%2Fetc%2Fpasswd",
                    String(repeating: "0", count: 32) + ".png",
                ] {
                    let missing = try await ImageHub.call(port, .GET, "/media/\(name)")
                    #expect(missing.status == 404, "\(name): \(missing)")
                    #expect(missing.errorMessage?.isEmpty == false, "\(name): \(missing)")
                }
            }
        }
    }

    @Test func aGarbageAnswerFailsOverToTheNextProvider() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(
                service: base, providers: [("junk", "garbage"), ("good", "ok")], extra: "admin: { api_key: \(ImageHub.adminKey) }")
            try await TestHub.run(configuration) { port, _ in
                let id = try await ImageHub.submit(port, prompt: "a kite in the fog")
                let finished = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed", "cancelled"])
                #expect(finished["status"] == "succeeded", "\(finished.compactJSON)")
                #expect(finished["attempts"] == 1, "one job attempt; the router failed over inside it")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                #expect(try await ImageHub.get(url).body == FakeImageService.png(for: "a kite in the fog"))
                #expect(service.count(behaviour: "garbage") == 1 && service.count(behaviour: "ok") == 1, "\(service.requests)")

                // The resources report shows who failed and who answered...
                let resources = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json)
                let providers = resources["providers"]?["image"]?.arrayValue ?? []
                #expect(providers.compactMap { $0["provider"]?.stringValue } == ["junk", "good"], "\(providers)")
                let junk = providers.first { $0["provider"] == "junk" }
                let good = providers.first { $0["provider"] == "good" }
                #expect(junk?["failures"] == 1 && junk?["successes"] == 0, "\(String(describing: junk))")
                #expect(good?["successes"] == 1 && good?["failures"] == 0, "\(String(describing: good))")

                // ...and so does the usage ledger (written in the background).
                var usage: [JSONValue] = []
                try await ImageHub.until("both image attempts in the usage ledger") {
                    usage = try await ImageHub.call(port, .GET, "/admin/stats", key: ImageHub.adminKey).json?["usage"]?.arrayValue ?? []
                    return usage.contains { $0["provider"] == "junk" } && usage.contains { $0["provider"] == "good" }
                }
                let images = usage.filter { $0["kind"] == "image" }
                #expect(images.contains { $0["provider"] == "good" && $0["outcome"] == "ok" && $0["requests"] == 1 }, "\(usage)")
                #expect(images.contains { $0["provider"] == "junk" && $0["outcome"] != "ok" && $0["requests"] == 1 }, "\(usage)")
                // No model was asked anything: the public LLM totals do not count the pictures.
                let stats = try #require(try await ImageHub.call(port, .GET, "/stats").json)
                #expect(stats["llm"]?["attempts"] == 0, "\(stats.compactJSON)")
            }
        }
    }

    @Test func aFailingUpstreamFailsTheTaskAfterEveryAttempt() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("broken", "fail")], image: ["job_attempts: 3"])
            try await TestHub.run(configuration) { port, _ in
                let id = try await ImageHub.submit(port, prompt: "a doomed kite")
                let finished = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed", "cancelled"])
                #expect(finished["status"] == "failed", "\(finished.compactJSON)")
                #expect(finished["attempts"] == 3, "image.job_attempts: \(finished.compactJSON)")
                // The provider's own words, passed on.
                #expect(finished["error"] == "the image service answered HTTP 500: GPU on fire", "\(finished.compactJSON)")
                #expect(finished["result"]?["images"] == .array([]))
                #expect(service.count("a doomed kite") == 3, "one request per attempt (retry_attempts 0)")
            }
        }
    }

    // MARK: Bad requests

    @Test func badRequestsAre4xxJSONErrorsAndNoJobIsMade() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")])
            try await TestHub.run(configuration) { port, client in
                let cases: [(String, String)] = [
                    ("empty prompt", #"{"prompt":""}"#),
                    ("blank prompt", #"{"prompt":"  \n "}"#),
                    ("prompt missing", #"{"width":64}"#),
                    ("prompt null", #"{"prompt":null}"#),
                    ("prompt a number", #"{"prompt":5}"#),
                    ("prompt over 4000 characters", "{\"prompt\":\"\(String(repeating: "k", count: 4001))\"}"),
                    ("width 7", #"{"prompt":"a kite","width":7}"#),
                    ("width not a multiple of 8", #"{"prompt":"a kite","width":100}"#),
                    ("height 4096", #"{"prompt":"a kite","height":4096}"#),
                    ("width a string", #"{"prompt":"a kite","width":"64"}"#),
                    ("width fractional", #"{"prompt":"a kite","width":64.5}"#),
                    ("width beyond Int", #"{"prompt":"a kite","width":1e300}"#),
                    ("steps 0", #"{"prompt":"a kite","steps":0}"#),
                    ("n 0", #"{"prompt":"a kite","n":0}"#),
                    ("n 9", #"{"prompt":"a kite","n":9}"#),
                    ("seed negative", #"{"prompt":"a kite","seed":-1}"#),
                    ("unknown priority", #"{"prompt":"a kite","priority":"urgent"}"#),
                    ("use_turbo a string", #"{"prompt":"a kite","use_turbo":"yes please"}"#),
                    ("not JSON", "prompt=a+kite"),
                    ("malformed JSON", #"{"prompt":"a kite""#),
                    ("a JSON array", #"["a kite"]"#),
                    ("empty body", ""),
                ]
                for (what, body) in cases {
                    let response = try await SpeechHTTP.postJSON(client, "/api/v1/image/generate", body)
                    SpeechHTTP.expectError(response, .badRequest, "generate: \(what)")
                }
                let openAICases: [(String, String)] = [
                    ("prompt missing", #"{"size":"64x64"}"#),
                    ("empty prompt", #"{"prompt":""}"#),
                    ("size not WxH", #"{"prompt":"a kite","size":"big"}"#),
                    ("size 7x7", #"{"prompt":"a kite","size":"7x7"}"#),
                    ("size a number", #"{"prompt":"a kite","size":64}"#),
                    ("response_format gif", #"{"prompt":"a kite","response_format":"gif"}"#),
                    ("n 0", #"{"prompt":"a kite","n":0}"#),
                    ("n a string", #"{"prompt":"a kite","n":"two"}"#),
                    ("not JSON", "a kite"),
                ]
                for (what, body) in openAICases {
                    let response = try await SpeechHTTP.postJSON(client, "/v1/images/generations", body)
                    SpeechHTTP.expectError(response, .badRequest, "OpenAI: \(what)")
                }
                // Over server.max_body_bytes (1 MiB by default): 413, still a JSON error.
                let huge = "{\"prompt\":\"\(String(repeating: "k", count: 1_100_000))\"}"
                for path in ["/api/v1/image/generate", "/v1/images/generations"] {
                    let response = try await SpeechHTTP.postJSON(client, path, huge)
                    SpeechHTTP.expectError(response, .contentTooLarge, "\(path): body over max_body_bytes")
                }
                try await SpeechHTTP.expectServing(client)
                let batch = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"]?["batch"])
                #expect(batch["queued"] == 0 && batch["running"] == 0, "no job was made: \(batch.compactJSON)")
                #expect(service.requests.isEmpty)
            }
        }
    }

    @Test func unknownTasksAre404() async throws {
        let configuration = try ImageHub.configuration(service: "http://127.0.0.1:9", providers: [("good", "ok")])
        try await TestHub.run(configuration) { port, _ in
            let unknown = String(repeating: "ab", count: 16)
            for (method, path) in [
                (HTTPMethod.GET, "/api/v1/task/status/\(unknown)"), (.DELETE, "/api/v1/task/status/\(unknown)"),
                (.GET, "/api/v1/task/status/not-a-task"), (.DELETE, "/api/v1/task/status/not-a-task"),
                (.GET, "/api/v1/task/status/\(unknown.uppercased())"), (.GET, "/api/v1/task/status/\(String(repeating: "a", count: 500))"),
            ] {
                let response = try await ImageHub.call(port, method, path)
                #expect(response.status == 404, "\(method) \(path.prefix(60)): \(response)")
                #expect(response.errorMessage?.isEmpty == false, "\(method) \(path.prefix(60)): \(response)")
            }
        }
    }

    // MARK: Cancelling

    @Test func aCancelledQueuedTaskNeverReachesTheUpstream() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")])
            try await TestHub.run(configuration) { port, _ in
                service.hold()
                let running = try await ImageHub.submit(port, prompt: "the first kite")
                try await service.waitForRequest("the first kite")
                let queued = try await ImageHub.submit(port, prompt: "never drawn")
                let waiting = try await ImageHub.status(port, id: queued)
                #expect(waiting["status"] == "queued" && waiting["position"] == 1 && waiting["progress"]?.doubleValue == 0, "\(waiting.compactJSON)")
                #expect(try await ImageHub.status(port, id: running)["status"] == "running")

                let cancelled = try await ImageHub.call(port, .DELETE, "/api/v1/task/status/\(queued)")
                #expect(cancelled.status == 200, "\(cancelled)")
                #expect(cancelled.json?["status"] == "cancelled")
                let after = try await ImageHub.status(port, id: queued)
                #expect(after["status"] == "cancelled" && after["attempts"] == 0, "\(after.compactJSON)")
                // Cancelling it again changes nothing and says so (DELETE is idempotent).
                let again = try await ImageHub.call(port, .DELETE, "/api/v1/task/status/\(queued)")
                #expect(again.status == 200 && again.json?["status"] == "cancelled", "\(again)")

                // A task queued after the cancelled one: when it is done, the cancelled one would
                // have been run before it.
                let later = try await ImageHub.submit(port, prompt: "the third kite")
                service.release()
                #expect(try await ImageHub.waitForStatus(port, id: later, ["succeeded", "failed"])["status"] == "succeeded")
                #expect(try await ImageHub.status(port, id: running)["status"] == "succeeded")
                #expect(service.count("never drawn") == 0, "\(service.requests.map(\.prompt))")
                #expect(service.requests.map(\.prompt) == ["the first kite", "the third kite"])
                #expect(try await ImageHub.status(port, id: queued)["status"] == "cancelled")

                let finished = try await ImageHub.call(port, .DELETE, "/api/v1/task/status/\(running)")
                #expect(finished.status == 409, "\(finished)")
                #expect(finished.errorMessage?.contains("succeeded") == true, "\(finished)")
                #expect(try await ImageHub.status(port, id: running)["status"] == "succeeded", "a refused cancel changes nothing")
            }
        }
    }

    @Test func aRunningTaskCanBeCancelledAndStaysCancelled() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")])
            try await TestHub.run(configuration) { port, _ in
                service.hold()
                let id = try await ImageHub.submit(port, prompt: "a kite to forget")
                try await service.waitForRequest("a kite to forget")
                let cancelled = try await ImageHub.call(port, .DELETE, "/api/v1/task/status/\(id)")
                #expect(cancelled.status == 200 && cancelled.json?["status"] == "cancelled", "\(cancelled)")
                // The upstream answers late; the next task finishing proves the lane moved on.
                service.release()
                let next = try await ImageHub.submit(port, prompt: "the kite after")
                #expect(try await ImageHub.waitForStatus(port, id: next, ["succeeded", "failed"])["status"] == "succeeded")
                let after = try await ImageHub.status(port, id: id)
                #expect(after["status"] == "cancelled" && after["result"]?["images"] == .array([]), "\(after.compactJSON)")
            }
        }
    }

    // MARK: Refusals

    @Test func withoutProvidersTheRoutesAre503() async throws {
        let configuration = try ImageHub.configuration(service: nil, providers: [])
        try await TestHub.run(configuration) { port, _ in
            let generate = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: #"{"prompt":"a kite"}"#)
            #expect(generate.status == 503 && generate.errorMessage?.contains("No image generator") == true, "\(generate)")
            let openAI = try await ImageHub.call(port, .POST, "/v1/images/generations", body: #"{"prompt":"a kite"}"#)
            #expect(openAI.status == 503 && openAI.errorMessage?.isEmpty == false, "\(openAI)")
            let resources = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json)
            #expect(resources["providers"]?["image"] == .array([]))
            #expect(resources["lanes"]?["batch"]?["queued"] == 0)
        }
    }

    @Test func aFullQueueIs429WithRetryAfter() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")], batch: "{ max_concurrent: 1, queue: 2 }")
            try await TestHub.run(configuration) { port, _ in
                service.hold()
                let first = try await ImageHub.submit(port, prompt: "kite 1")
                try await service.waitForRequest("kite 1")
                var ids = [first]
                for (index, prompt) in ["kite 2", "kite 3"].enumerated() {
                    let response = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: ImageHub.body(prompt))
                    #expect(response.status == 202 && response.json?["position"] == .int(Int64(index + 1)), "\(response)")
                    ids.append(try #require(response.json?["task_id"]?.stringValue))
                }
                let refused = try await ImageHub.call(port, .POST, "/api/v1/image/generate", body: ImageHub.body("kite 4"))
                #expect(refused.status == 429, "\(refused)")
                let retryAfter = refused.header("retry-after").flatMap(Int.init)
                #expect(retryAfter.map { $0 >= 1 } == true, "Retry-After: \(String(describing: refused.header("retry-after")))")
                #expect(refused.errorMessage?.contains("try again") == true, "\(refused)")
                // The OpenAI route is refused the same way, at once rather than after its wait.
                let openAI = try await ImageHub.call(port, .POST, "/v1/images/generations", body: ImageHub.body("kite 5"))
                #expect(openAI.status == 429 && openAI.header("retry-after").flatMap(Int.init) != nil, "\(openAI)")
                #expect(openAI.json?["error"]?["type"] == "rate_limit_error", "\(openAI)")

                let batch = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json?["lanes"]?["batch"])
                #expect(batch == ["running": 1, "queued": 2, "max_concurrent": 1, "queue_limit": 2, "refused": 2], "\(batch.compactJSON)")

                service.release()
                for id in ids {
                    #expect(try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed"])["status"] == "succeeded")
                }
                #expect(service.count("kite 4") == 0 && service.count("kite 5") == 0)
                // Room again.
                let id = try await ImageHub.submit(port, prompt: "kite 6")
                #expect(try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed"])["status"] == "succeeded")
            }
        }
    }

    // MARK: OpenAI's shape

    @Test func openAIGenerationsAnswerURLsAndBase64() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")])
            try await TestHub.run(configuration) { port, _ in
                let byURL = try await ImageHub.call(
                    port, .POST, "/v1/images/generations", body: #"{"prompt":"a lighthouse","size":"64x64","model":"whatever"}"#)
                #expect(byURL.status == 200, "\(byURL)")
                #expect(byURL.json?["created"]?.int64Value != nil)
                let data = byURL.json?["data"]?.arrayValue ?? []
                #expect(data.count == 1)
                let url = try #require(data.first?["url"]?.stringValue, "\(byURL)")
                #expect(url.hasPrefix("http://127.0.0.1:\(port)/media/"), "\(url)")
                #expect(data.first?["b64_json"] == nil)
                let picture = try await ImageHub.get(url)
                #expect(picture.header("content-type") == "image/png" && picture.body == FakeImageService.png(for: "a lighthouse"))

                let inline = try await ImageHub.call(
                    port, .POST, "/v1/images/generations",
                    body: #"{"prompt":"a lighthouse at night","size":"64x64","n":2,"response_format":"b64_json"}"#)
                #expect(inline.status == 200, "\(inline)")
                let pictures = inline.json?["data"]?.arrayValue ?? []
                #expect(pictures.count == 2)
                for item in pictures {
                    let decoded = item["b64_json"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init)
                    #expect(decoded == FakeImageService.png(for: "a lighthouse at night"))
                    #expect(item["url"] == nil)
                }
            }
        }
    }

    @Test func aWaitShorterThanTheUpstreamIs504NamingTheTask() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")], image: ["wait_timeout: 0.3"])
            try await TestHub.run(configuration) { port, _ in
                service.hold()
                let timedOut = try await ImageHub.call(port, .POST, "/v1/images/generations", body: #"{"prompt":"a slow lighthouse"}"#)
                #expect(timedOut.status == 504, "\(timedOut)")
                #expect(timedOut.json?["error"]?["code"] == "timeout", "\(timedOut)")
                let message = try #require(timedOut.errorMessage)
                let id = try #require(message.firstMatch(of: try Regex("[0-9a-f]{32}")).map { String(message[$0.range]) }, "\(message)")
                #expect(message.contains("/api/v1/task/status/\(id)"), "\(message)")
                #expect(try await ImageHub.status(port, id: id)["status"] == "running")
                service.release()
                let finished = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed"])
                #expect(finished["status"] == "succeeded")
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                #expect(try await ImageHub.get(url).body == FakeImageService.png(for: "a slow lighthouse"))
            }
        }
    }

    // MARK: Keys and the resources report

    @Test func apiKeysAreEnforcedExceptOnPictures() async throws {
        let service = FakeImageService()
        try await service.run { base in
            let configuration = try ImageHub.configuration(service: base, providers: [("good", "ok")], extra: "gateway: { api_keys: [ k-images ] }")
            try await TestHub.run(configuration) { port, _ in
                let some = String(repeating: "cd", count: 16)
                let guarded: [(HTTPMethod, String, String?)] = [
                    (.POST, "/api/v1/image/generate", ImageHub.body("a locked kite")),
                    (.POST, "/v1/images/generations", ImageHub.body("a locked kite")),
                    (.GET, "/api/v1/task/status/\(some)", nil), (.DELETE, "/api/v1/task/status/\(some)", nil),
                    (.GET, "/api/v1/system/resources", nil),
                ]
                for (method, path, body) in guarded {
                    for key in [nil, "wrong"] as [String?] {
                        let response = try await ImageHub.call(port, method, path, body: body, key: key)
                        #expect(response.status == 401, "\(method) \(path) with key \(key ?? "none"): \(response)")
                        #expect(response.errorMessage?.isEmpty == false)
                    }
                }
                let id = try await ImageHub.submit(port, prompt: "an unlocked kite", key: "k-images")
                let finished = try await ImageHub.waitForStatus(port, id: id, ["succeeded", "failed"], key: "k-images")
                #expect(finished["status"] == "succeeded")
                #expect(try await ImageHub.call(port, .GET, "/api/v1/system/resources", key: "k-images").status == 200)
                // Pictures are served by their unguessable names, without a key (an <img> cannot send one).
                let url = try #require(finished["result"]?["images"]?.arrayValue?.first?.stringValue)
                #expect(try await ImageHub.get(url).status == 200)
                #expect(service.requests.map(\.prompt) == ["an unlocked kite"], "refused requests made no job")
            }
        }
    }

    @Test func theResourcesReportCoversLanesProcessAndProviders() async throws {
        let upstream = FakeUpstream()
        let service = FakeImageService()
        try await upstream.run { llm in
            try await service.run { base in
                let configuration = try ImageHub.configuration(
                    service: base, providers: [("good", "ok")], batch: "{ max_concurrent: 3, queue: 7 }",
                    extra: "llm: { providers: [ { name: fake, base_url: \"\(llm)\", api_key: k, models: [ { name: model-a } ] } ] }")
                try await TestHub.run(configuration) { port, _ in
                    let resources = try #require(try await ImageHub.call(port, .GET, "/api/v1/system/resources").json)
                    let lanes = try #require(resources["lanes"]?.objectValue)
                    #expect(Set(lanes.keys) == ["realtime", "cpu", "batch", "notices"])
                    for (name, lane) in lanes {
                        let keys = Set(lane.objectValue.map { Array($0.keys) } ?? [])
                        #expect(keys == ["running", "queued", "max_concurrent", "queue_limit", "refused"], "\(name)")
                        for key in ["running", "queued", "refused"] { #expect(lane[key]?.int64Value.map { $0 >= 0 } == true, "\(name).\(key)") }
                        #expect(lane["max_concurrent"]?.int64Value.map { $0 >= 1 } == true, "\(name)")
                    }
                    #expect(lanes["batch"]?["max_concurrent"] == 3 && lanes["batch"]?["queue_limit"] == 7)
                    let process = try #require(resources["process"])
                    #expect((process["cpu_seconds"]?.doubleValue ?? 0) > 0, "\(process.compactJSON)")
                    #expect((process["rss_bytes"]?.int64Value ?? 0) > 1 << 20, "\(process.compactJSON)")
                    #expect((process["uptime_seconds"]?.doubleValue ?? -1) >= 0, "\(process.compactJSON)")
                    let providers = try #require(resources["providers"])
                    #expect(providers["llm"]?.arrayValue?.first?["provider"] == "fake", "\(providers.compactJSON)")
                    #expect(providers["tts"]?.arrayValue?.isEmpty == false, "\(providers.compactJSON)")
                    #expect(providers["stt"]?.arrayValue?.isEmpty == false, "\(providers.compactJSON)")
                    let image = providers["image"]?.arrayValue ?? []
                    #expect(image.count == 1 && image.first?["provider"] == "good" && image.first?["healthy"] == true, "\(providers.compactJSON)")
                }
            }
        }
    }
}

// MARK: - Helpers shared by the image suites

/// A hub configured for image tests, and the HTTP calls the image suites make (through
/// AsyncHTTPClient, so the `Host` header carries the port and picture URLs can be fetched as given).
enum ImageHub {
    static let adminKey = "adm1n-key"

    /// An answer, body collected.
    struct Answer: Sendable, CustomStringConvertible {
        let status: UInt
        let headers: HTTPHeaders
        let body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue(parsing: text) }
        /// `error.message` of a JSON error.
        var errorMessage: String? {
            guard headers.first(name: "content-type")?.hasPrefix("application/json") == true else { return nil }
            return json?["error"]?["message"]?.stringValue
        }
        func header(_ name: String) -> String? { headers.first(name: name) }
        var description: String { "\(status) \(text.prefix(300))" }
    }

    /// A fresh folder for a hub's database and pictures.
    static func folder() -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-images-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The YAML of a hub whose image providers are `providers` (name, behaviour) of the fake
    /// service at `service`, each tried once per attempt; `image` lines go under `image:`, `lanes`
    /// are more entries of `lanes:` (after `batch`), `extra` is more top-level sections. `port` nil
    /// leaves it to `HUB_SERVER_PORT`. A provider is of kind `openai` unless `kinds` names another
    /// for it (`sdwebui`: the fake's WebUI door), and has a 20 s timeout unless `timeouts` names another.
    static func yaml(
        folder: URL, service: String?, providers: [(name: String, behaviour: String)], image: [String] = [],
        batch: String = "{ max_concurrent: 1, queue: 64 }", lanes: String? = nil, extra: String = "", port: Int? = 0,
        kinds: [String: String] = [:], timeouts: [String: Double] = [:]
    ) -> String {
        let list = providers.map { provider in
            let kind = kinds[provider.name] ?? "openai"
            let base = "\(service ?? "")/\(provider.behaviour)" + (kind == "openai" ? "/v1" : "")
            return "    - { name: \(provider.name), kind: \(kind), base_url: \"\(base)\", timeout: \(timeouts[provider.name] ?? 20), retry_attempts: 0 }"
        }
        return """
            server: { host: 127.0.0.1\(port.map { ", port: \($0)" } ?? "") }
            storage:
              sqlite_path: "\(folder.appendingPathComponent("hub.sqlite").path)"
              media_dir: "\(folder.appendingPathComponent("media").path)"
            onebot: { access_token: \(TestHub.token), secret: \(TestHub.secret), action_timeout: 5 }
            chat: { rate_limit: { per_user: "off", per_group: "off" } }
            lanes: { batch: \(batch)\(lanes.map { ", " + $0 } ?? "") }
            image:
              providers:\(list.isEmpty ? " []" : "\n" + list.joined(separator: "\n"))
              width: 64
              height: 64
            \(image.map { "  " + $0 }.joined(separator: "\n"))
            \(extra)
            """
    }

    static func configuration(
        service: String?, providers: [(name: String, behaviour: String)], image: [String] = [], batch: String = "{ max_concurrent: 1, queue: 64 }",
        lanes: String? = nil, extra: String = "", kinds: [String: String] = [:], timeouts: [String: Double] = [:]
    ) throws -> HubConfiguration {
        try HubConfiguration.parse(
            yaml: yaml(
                folder: folder(), service: service, providers: providers, image: image, batch: batch, lanes: lanes, extra: extra, kinds: kinds,
                timeouts: timeouts),
            environment: [:])
    }

    /// `{"prompt": prompt}`, 64×64.
    /// A small picture's request body, with `priority` when given.
    static func body(_ prompt: String, priority: String? = nil) -> String {
        var body: [String: JSONValue] = ["prompt": .string(prompt), "width": 64, "height": 64]
        if let priority { body["priority"] = .string(priority) }
        return JSONValue.object(body).compactJSON
    }

    static func call(
        _ port: Int, _ method: HTTPMethod, _ path: String, body: String? = nil, key: String? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: response.status.code, headers: response.headers, body: Array(bytes.readableBytesView))
    }

    /// GETs an absolute URL.
    static func get(_ url: String) async throws -> Answer {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: response.status.code, headers: response.headers, body: Array(bytes.readableBytesView))
    }

    /// Queues a 64×64 picture of `prompt`; returns the task id.
    static func submit(_ port: Int, prompt: String, key: String? = nil) async throws -> String {
        let answer = try await call(port, .POST, "/api/v1/image/generate", body: body(prompt), key: key)
        try #require(answer.status == 202, "submit \(prompt): \(answer)")
        return try #require(answer.json?["task_id"]?.stringValue)
    }

    static func status(_ port: Int, id: String, key: String? = nil) async throws -> JSONValue {
        let answer = try await call(port, .GET, "/api/v1/task/status/\(id)", key: key)
        try #require(answer.status == 200, "status of \(id): \(answer)")
        return try #require(answer.json)
    }

    /// `lanes` of `/api/v1/system/resources`.
    static func lanes(_ port: Int) async throws -> JSONValue {
        let answer = try await call(port, .GET, "/api/v1/system/resources")
        return try #require(answer.json?["lanes"], "\(answer)")
    }

    /// Polls `condition`, a request to the hub, every 20 ms until it holds (bounded).
    static func until(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        try await eventually(what, timeout: timeout, every: .milliseconds(20), condition)
    }

    /// Polls the task until its status is one of `states` (bounded); returns the last status.
    static func waitForStatus(
        _ port: Int, id: String, _ states: Set<String>, key: String? = nil, timeout: Duration = .seconds(20)
    ) async throws -> JSONValue {
        try await waitForStatus(port, location: "/api/v1/task/status/\(id)", states, key: key, timeout: timeout)
    }

    static func waitForStatus(
        _ port: Int, location: String, _ states: Set<String>, key: String? = nil, timeout: Duration = .seconds(20)
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try await call(port, .GET, location, key: key)
            let json = try #require(answer.json, "\(answer)")
            if let status = json["status"]?.stringValue, states.contains(status) { return json }
            guard ContinuousClock.now < deadline else { throw Unmet(what: "\(location) to be \(states.sorted()); last \(json.compactJSON)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
