// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import Testing

@testable import Engine

/// The media directory (saving, reading, names it serves, the TTL sweep with the job rows) and the
/// image job runner that fills it, over the loopback image stub.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct MediaStoreTests {
    static let logger = Logger(label: "media-test")

    /// A media store in a fresh temporary folder (not created yet: the first save makes it).
    static func withMedia(ttl: Duration = .seconds(3600), jobs: Bool = false, _ body: (MediaStore, HubDatabase?) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-media-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = jobs ? try makeTemporaryDatabase() : nil
        defer { if let database { removeTemporaryDatabase(database) } }
        let media = MediaStore(
            directory: folder.appendingPathComponent("media").path, ttl: ttl, jobs: database.map(JobStore.init(database:)), logger: logger)
        try await body(media, database)
    }

    static let png = GeneratedImage(bytes: StubImageService.png)!
    static let jpeg = GeneratedImage(bytes: StubImageService.jpeg)!

    static func exists(_ media: MediaStore, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: media.directory.appendingPathComponent(name).path)
    }

    // MARK: Files

    @Test func aSavedPictureIsReadBackUnderAFreshId() async throws {
        try await Self.withMedia { media, _ in
            let file = try media.save(Self.png)
            #expect(JobRecord.isValidID(file.id))
            #expect(file.format == .png && file.width == 64 && file.height == 32)
            #expect(file.fileName == "\(file.id).png" && file.urlPath == "/media/\(file.id).png")
            #expect(media.read(file) == StubImageService.png)
            #expect(Self.exists(media, file.fileName))
            let photo = try media.save(Self.jpeg)
            #expect(photo.id != file.id)
            #expect(photo.fileName == "\(photo.id).jpg" && photo.width == 40 && photo.height == 24)
            #expect(media.read(photo) == StubImageService.jpeg)
            // Never made, or the right id with the wrong format: nothing.
            #expect(media.read(MediaFile(id: JobRecord.makeID(), format: .png)) == nil)
            #expect(media.read(MediaFile(id: file.id, format: .webp)) == nil)
        }
    }

    @Test func onlyNamesTheStoreMakesMapToFiles() async throws {
        try await Self.withMedia { media, _ in
            let id = JobRecord.makeID()
            for name in ["\(id).png", "\(id).jpg", "\(id).webp"] {
                #expect(media.url(forName: name) == media.directory.appendingPathComponent(name))
            }
            let refused = [
                "../x.png", "../\(id).png", "\(id)/../x.png", "..%2F\(id).png", "/etc/passwd", "\(id)", "\(id).", ".png", "",
                "\(id).gif", "\(id).jpeg", "\(id).txt", "\(id).png.png", "\(id).PNG", "\(id.uppercased()).png", "\(id.dropLast()).png",
                "\(id)0.png", "\(id.dropLast())g.png", " \(id).png",
            ]
            for name in refused { #expect(media.url(forName: name) == nil, "\(name)") }
        }
    }

    @Test func theSweepDeletesWhatIsOlderThanTheTTLWithItsJobs() async throws {
        try await Self.withMedia(ttl: .seconds(3600), jobs: true) { media, database in
            let database = try #require(database)
            let store = JobStore(database: database)
            let now = Date()
            let manager = FileManager.default
            let old = try media.save(Self.png)
            let fresh = try media.save(Self.png)
            let oldPhoto = try media.save(Self.jpeg)
            try manager.setAttributes([.modificationDate: now - 7200], ofItemAtPath: media.directory.appendingPathComponent(old.fileName).path)
            try manager.setAttributes([.modificationDate: now - 3700], ofItemAtPath: media.directory.appendingPathComponent(oldPhoto.fileName).path)
            try manager.setAttributes([.modificationDate: now - 600], ofItemAtPath: media.directory.appendingPathComponent(fresh.fileName).path)
            // Not a name the store makes: left alone, however old.
            let notes = media.directory.appendingPathComponent("notes.txt").path
            #expect(manager.createFile(atPath: notes, contents: Data("keep".utf8)))
            try manager.setAttributes([.modificationDate: now - 90_000], ofItemAtPath: notes)

            var oldJob = JobTesting.finished("old", finishedAt: now - 7200)
            oldJob.result = [old]
            let oldFailed = JobTesting.finished("old failed", state: .failed, finishedAt: now - 3601)
            var freshJob = JobTesting.finished("fresh", finishedAt: now - 600)
            freshJob.result = [fresh]
            // Waiting for hours, but not finished: a sweep never takes it.
            let waiting = JobRecord(id: JobRecord.makeID(), kind: "test", priority: .low, payload: "waiting", maxAttempts: 2, createdAt: now - 10_000)
            for job in [oldJob, oldFailed, freshJob, waiting] { try await store.insert(job) }

            #expect(await media.sweep(now: now) == 2)
            #expect(!Self.exists(media, old.fileName) && !Self.exists(media, oldPhoto.fileName))
            #expect(media.read(old) == nil)
            #expect(media.read(fresh) == StubImageService.png)
            #expect(manager.fileExists(atPath: notes))
            #expect(try await store.job(oldJob.id) == nil)
            #expect(try await store.job(oldFailed.id) == nil)
            #expect(try await store.job(freshJob.id)?.result == [fresh])
            #expect(try await store.job(waiting.id)?.state == .queued)
            // Nothing more to do until time passes.
            #expect(await media.sweep(now: now) == 0)
            #expect(await media.sweep(now: now + 3601) == 1)
            #expect(try await store.job(freshJob.id) == nil)
        }
    }

    @Test func aSweepOfAStoreThatNeverSavedFindsNothing() async throws {
        try await Self.withMedia { media, _ in
            #expect(await media.sweep() == 0)
            #expect(!FileManager.default.fileExists(atPath: media.directory.path))
        }
    }

    // MARK: The image job runner

    static func imageJob(_ request: ImageRequest) throws -> JobRecord {
        let payload = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        return JobRecord(id: JobRecord.makeID(), kind: ImageJobRunner.kind, priority: .normal, payload: payload, maxAttempts: 2, createdAt: Date())
    }

    @Test func theRunnerKeepsWhatTheRouterDrew() async throws {
        try await Self.withMedia { media, _ in
            try await StubImageService.with { service, port, client in
                let (router, _) = ImageGenerationRouterTests.router(client, port: port, ["ok"])
                let runner = ImageJobRunner(router: router, media: media)
                let files = try await runner.run(try Self.imageJob(ImageRequest(prompt: "a cat", width: 512, height: 512)))
                #expect(files.count == 1)
                let file = try #require(files.first)
                #expect(file.format == .png && file.width == 64 && file.height == 32)
                #expect(Self.exists(media, file.fileName))
                #expect(media.read(file) == StubImageService.png)
                #expect(service.received.value.first?.body?["prompt"]?.stringValue == "a cat")
                #expect(service.received.value.first?.body?["size"]?.stringValue == "512x512")
            }
        }
    }

    @Test(arguments: ["notjson", "badbase64", "error500"])
    func theRunnerFailsOverFromGarbageToTheNextRoute(behaviour: String) async throws {
        try await Self.withMedia { media, _ in
            try await StubImageService.with { service, port, client in
                let (router, _) = ImageGenerationRouterTests.router(client, port: port, [behaviour, "jpeg"], retries: 0)
                let files = try await ImageJobRunner(router: router, media: media).run(try Self.imageJob(ImageRequest(prompt: "a cat")))
                #expect(files.map(\.format) == [.jpeg])
                #expect(media.read(try #require(files.first)) == StubImageService.jpeg)
                #expect(service.calls.value == [behaviour: 1, "jpeg": 1])
            }
        }
    }

    @Test func aRequestNoAttemptCanDoIsNotRetried() async throws {
        try await Self.withMedia { media, _ in
            try await StubImageService.with { service, port, client in
                let (router, _) = ImageGenerationRouterTests.router(client, port: port, ["ok"])
                let runner = ImageJobRunner(router: router, media: media)
                let empty = await thrownError(JobFailure.self) { try await runner.run(try Self.imageJob(ImageRequest(prompt: "   "))) }
                #expect(empty?.retryable == false)
                #expect(empty?.message.contains("prompt") == true)
                let tooMany = await thrownError(JobFailure.self) { try await runner.run(try Self.imageJob(ImageRequest(prompt: "x", count: 100))) }
                #expect(tooMany?.retryable == false)
                var garbled = try Self.imageJob(ImageRequest(prompt: "x"))
                garbled.payload = "{not json"
                let unreadable = await thrownError(JobFailure.self) { try await runner.run(garbled) }
                #expect(unreadable == JobFailure("the job's request could not be read", retryable: false))
                #expect(service.calls.value.isEmpty)
                // No generator at all: no attempt can help either.
                let none = ImageJobRunner(router: ImageGenerationRouter(routes: [], logger: Self.logger), media: media)
                #expect(await thrownError(JobFailure.self) { try await none.run(try Self.imageJob(ImageRequest(prompt: "x"))) }?.retryable == false)
            }
        }
    }

    @Test func providersThatAllFailLeaveTheJobRetryable() async throws {
        try await Self.withMedia { media, _ in
            try await StubImageService.with { _, port, client in
                let (router, _) = ImageGenerationRouterTests.router(client, port: port, ["error500", "notimage"], retries: 0)
                let failure = await thrownError(JobFailure.self) {
                    try await ImageJobRunner(router: router, media: media).run(try Self.imageJob(ImageRequest(prompt: "x")))
                }
                #expect(failure?.retryable == true)
            }
        }
    }

    @Test func anImageJobThroughTheQueueEndsWithItsFile() async throws {
        try await Self.withMedia { media, _ in
            let database = try makeTemporaryDatabase()
            defer { removeTemporaryDatabase(database) }
            try await StubImageService.with { _, port, client in
                let (router, _) = ImageGenerationRouterTests.router(client, port: port, ["flaky"], retries: 0)
                let queue = JobQueue(
                    store: JobStore(database: database), settings: .init(maxAttempts: 2),
                    runners: [ImageJobRunner.kind: ImageJobRunner(router: router, media: media)], logger: JobTesting.logger)
                try await JobTesting.running(queue) { queue in
                    // The provider fails the first call (retries are the queue's here), then draws.
                    let payload = String(decoding: try JSONEncoder().encode(ImageRequest(prompt: "a kite")), as: UTF8.self)
                    let ticket = try await queue.submit(kind: ImageJobRunner.kind, payload: payload, priority: .high)
                    let job = try #require(try await queue.wait(for: ticket.job.id, timeout: .seconds(10)))
                    #expect(job.state == .succeeded && job.attempts == 2)
                    let file = try #require(job.result.first)
                    #expect(media.read(file) == StubImageService.png)
                }
            }
        }
    }
}
