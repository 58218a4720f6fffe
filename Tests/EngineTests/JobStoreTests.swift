// SPDX-License-Identifier: Apache-2.0
import Foundation
import GRDB
import Testing

@testable import Engine

/// The `jobs` table on a real SQLite file, with every clock reading given: priority then age,
/// aging, positions, requeues, cancellation, restart, delivery bookkeeping and deletion.
@Suite(.timeLimit(.minutes(1)))
struct JobStoreTests {
    /// Whole seconds, so dates survive the table's `REAL` columns exactly.
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// A queued `test` job named `payload`, queued `at` seconds after ``t0``.
    static func job(_ payload: String, _ priority: JobPriority = .normal, at seconds: Double = 0, origin: String? = nil) -> JobRecord {
        JobRecord(id: JobRecord.makeID(), kind: "test", priority: priority, payload: payload, origin: origin, maxAttempts: 2, createdAt: t0 + seconds)
    }

    static func withStore(_ body: (JobStore) async throws -> Void) async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        try await body(JobStore(database: database))
    }

    /// Claims until the queue is empty; the payloads in the order they were taken.
    static func drain(_ store: JobStore, now: Date, aging: Duration) async throws -> [String] {
        var order = [String]()
        while let job = try await store.claimNext(now: now, aging: aging) { order.append(job.payload) }
        return order
    }

    @Test func aRecordSurvivesTheTable() async throws {
        try await Self.withStore { store in
            var job = Self.job("draw", .high, at: 0.5, origin: #"{"id":"qq:bot:1:m1"}"#)
            try await store.insert(job)
            #expect(try await store.job(job.id) == job)
            let files = [MediaFile(id: JobRecord.makeID(), format: .png, width: 64, height: 32), MediaFile(id: JobRecord.makeID(), format: .jpeg)]
            _ = try await store.claimNext(now: Self.t0 + 1, aging: .seconds(60))
            let finished = try #require(try await store.finish(job.id, state: .succeeded, result: files, at: Self.t0 + 2))
            job.state = .succeeded
            job.attempts = 1
            job.startedAt = Self.t0 + 1
            job.finishedAt = Self.t0 + 2
            job.result = files
            #expect(finished == job)
            #expect(try await store.job(job.id) == job)
            #expect(try await store.job(JobRecord.makeID()) == nil)
        }
    }

    @Test func idsAre32LowercaseHexDigits() {
        let ids = (0..<200).map { _ in JobRecord.makeID() }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy { JobRecord.isValidID($0) })
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(!JobRecord.isValidID(ids[0].uppercased()))
        #expect(!JobRecord.isValidID(String(ids[0].dropLast())))
        #expect(!JobRecord.isValidID(ids[0] + "0"))
        #expect(!JobRecord.isValidID("../" + ids[0].dropFirst(3)))
    }

    @Test func higherPrioritiesAreTakenFirstThenTheOldest() async throws {
        try await Self.withStore { store in
            for job in [
                Self.job("low", .low, at: 0), Self.job("normal 1", .normal, at: 1), Self.job("high 1", .high, at: 2),
                Self.job("normal 2", .normal, at: 3), Self.job("high 2", .high, at: 4),
            ] {
                try await store.insert(job)
            }
            let now = Self.t0 + 5
            let first = try #require(try await store.claimNext(now: now, aging: .seconds(60)))
            #expect(first.payload == "high 1")
            #expect(first.state == .running && first.attempts == 1 && first.startedAt == now)
            #expect(try await store.job(first.id)?.state == .running)
            #expect(try await Self.drain(store, now: now, aging: .seconds(60)) == ["high 2", "normal 1", "normal 2", "low"])
            #expect(try await store.claimNext(now: now, aging: .seconds(60)) == nil)
            #expect(try await store.queuedCount() == 0)
        }
    }

    @Test func aJobThatWaitedTwoAgingStepsGoesAheadOfANewerHighOne() async throws {
        try await Self.withStore { store in
            // low waited 21 s (two steps of 10 s: aged rank 0), high 0.5 s (rank 0): the older wins the tie.
            try await store.insert(Self.job("low", .low, at: 0))
            try await store.insert(Self.job("high", .high, at: 20.5))
            #expect(try await Self.drain(store, now: Self.t0 + 21, aging: .seconds(10)) == ["low", "high"])
        }
        try await Self.withStore { store in
            // One step only (19 s): low counts as normal, still behind high.
            try await store.insert(Self.job("low", .low, at: 2))
            try await store.insert(Self.job("high", .high, at: 20.5))
            #expect(try await Self.drain(store, now: Self.t0 + 21, aging: .seconds(10)) == ["high", "low"])
        }
        try await Self.withStore { store in
            // The same jobs with aging slow enough never to matter.
            try await store.insert(Self.job("low", .low, at: 0))
            try await store.insert(Self.job("high", .high, at: 20.5))
            #expect(try await Self.drain(store, now: Self.t0 + 21, aging: .seconds(3600)) == ["high", "low"])
        }
    }

    @Test func aPositionCountsTheQueuedJobsTakenBeforeIt() async throws {
        try await Self.withStore { store in
            let running = Self.job("running", .high, at: 0)
            let low = Self.job("low", .low, at: 1)
            let normal = Self.job("normal", .normal, at: 2)
            let high = Self.job("high", .high, at: 3)
            let oldLow = Self.job("old low", .low, at: -30)
            for job in [running, low, normal, high] { try await store.insert(job) }
            _ = try await store.claimNext(now: Self.t0 + 0.5, aging: .seconds(60))
            let now = Self.t0 + 4
            #expect(try await store.position(of: high, now: now, aging: .seconds(60)) == 0)
            #expect(try await store.position(of: normal, now: now, aging: .seconds(60)) == 1)
            #expect(try await store.position(of: low, now: now, aging: .seconds(60)) == 2)
            // A low job that waited 34 s with 10 s aging (rank -1) is taken before all of them.
            try await store.insert(oldLow)
            #expect(try await store.position(of: oldLow, now: now, aging: .seconds(10)) == 0)
            #expect(try await store.position(of: high, now: now, aging: .seconds(10)) == 1)
            // The positions agree with the order of claims.
            #expect(try await Self.drain(store, now: now, aging: .seconds(10)) == ["old low", "high", "normal", "low"])
        }
    }

    @Test func aRequeuedJobKeepsItsAgeAndItsError() async throws {
        try await Self.withStore { store in
            let first = Self.job("first", at: 0)
            try await store.insert(first)
            try await store.insert(Self.job("second", at: 1))
            let claimed = try #require(try await store.claimNext(now: Self.t0 + 2, aging: .seconds(60)))
            #expect(claimed.id == first.id)
            try await store.requeue(first.id, error: "provider down")
            let requeued = try #require(try await store.job(first.id))
            #expect(requeued.state == .queued && requeued.error == "provider down" && requeued.startedAt == nil)
            #expect(requeued.attempts == 1 && requeued.queuedAt == first.queuedAt)
            // It is still older than the second job, so it is taken first again.
            let again = try #require(try await store.claimNext(now: Self.t0 + 3, aging: .seconds(60)))
            #expect(again.id == first.id && again.attempts == 2)
            // requeue touches running jobs only.
            _ = try await store.finish(first.id, state: .failed, error: "gave up", at: Self.t0 + 4)
            try await store.requeue(first.id, error: nil)
            #expect(try await store.job(first.id)?.state == .failed)
        }
    }

    @Test func onlyAQueuedJobCanBeCancelledInTheTable() async throws {
        try await Self.withStore { store in
            let running = Self.job("running", .high, at: 0)
            let queued = Self.job("queued", .low, at: 1)
            try await store.insert(running)
            try await store.insert(queued)
            _ = try await store.claimNext(now: Self.t0 + 2, aging: .seconds(60))
            let cancelled = try #require(try await store.cancelQueued(queued.id, at: Self.t0 + 3))
            #expect(cancelled.state == .cancelled && cancelled.finishedAt == Self.t0 + 3)
            #expect(try await store.cancelQueued(queued.id, at: Self.t0 + 4) == nil)
            #expect(try await store.cancelQueued(running.id, at: Self.t0 + 4) == nil)
            #expect(try await store.job(running.id)?.state == .running)
            #expect(try await store.cancelQueued(JobRecord.makeID(), at: Self.t0 + 4) == nil)
            #expect(try await store.claimNext(now: Self.t0 + 5, aging: .seconds(60)) == nil)
        }
    }

    @Test func jobsLeftRunningAreQueuedAgainOnStart() async throws {
        try await Self.withStore { store in
            for (index, name) in ["a", "b", "c", "d"].enumerated() { try await store.insert(Self.job(name, at: Double(index))) }
            let a = try #require(try await store.claimNext(now: Self.t0 + 5, aging: .seconds(60)))
            let b = try #require(try await store.claimNext(now: Self.t0 + 5, aging: .seconds(60)))
            let c = try #require(try await store.claimNext(now: Self.t0 + 5, aging: .seconds(60)))
            _ = try await store.finish(c.id, state: .succeeded, at: Self.t0 + 6)
            #expect(try await store.requeueInterrupted() == 2)
            for id in [a.id, b.id] {
                let job = try #require(try await store.job(id))
                #expect(job.state == .queued && job.startedAt == nil && job.attempts == 1)
            }
            #expect(try await store.job(c.id)?.state == .succeeded)
            #expect(try await store.queuedCount() == 3)
            #expect(try await store.requeueInterrupted() == 0)
        }
    }

    @Test func undeliveredListsFinishedJobsAChatAskedForUntilTheyAreDelivered() async throws {
        try await Self.withStore { store in
            let second = JobTesting.finished("second", finishedAt: Self.t0 + 2)
            let first = JobTesting.finished("first", state: .failed, finishedAt: Self.t0 + 1)
            let delivered = JobTesting.finished("delivered", finishedAt: Self.t0, deliveredAt: Self.t0 + 1)
            let noChat = JobTesting.finished("no chat", origin: nil, finishedAt: Self.t0)
            let cancelled = JobTesting.finished("cancelled", state: .cancelled, finishedAt: Self.t0)
            let queued = Self.job("queued", origin: "{}")
            for job in [second, first, delivered, noChat, cancelled, queued] { try await store.insert(job) }
            #expect(try await store.undelivered().map(\.payload) == ["first", "second"])
            #expect(try await store.undelivered(limit: 1).map(\.payload) == ["first"])
            try await store.markDelivered(first.id, at: Self.t0 + 3)
            #expect(try await store.job(first.id)?.deliveredAt == Self.t0 + 3)
            #expect(try await store.undelivered().map(\.payload) == ["second"])
        }
    }

    @Test func deletingFinishedJobsReturnsTheirFilesAndKeepsTheRest() async throws {
        try await Self.withStore { store in
            let oldFile = MediaFile(id: JobRecord.makeID(), format: .png)
            var old = JobTesting.finished("old", finishedAt: Self.t0)
            old.result = [oldFile]
            let oldFailed = JobTesting.finished("old failed", state: .failed, finishedAt: Self.t0 + 1)
            var recent = JobTesting.finished("recent", finishedAt: Self.t0 + 100)
            recent.result = [MediaFile(id: JobRecord.makeID(), format: .webp)]
            let waiting = Self.job("waiting", at: -1000)
            for job in [old, oldFailed, recent, waiting] { try await store.insert(job) }
            #expect(try await store.deleteFinished(before: Self.t0 + 50) == [oldFile])
            #expect(try await store.job(old.id) == nil)
            #expect(try await store.job(oldFailed.id) == nil)
            #expect(try await store.job(recent.id) == recent)
            #expect(try await store.job(waiting.id)?.state == .queued)
            #expect(try await store.deleteFinished(before: Self.t0 + 50).isEmpty)
        }
    }
}
