// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import Testing

@testable import Engine

struct UsageLedgerTests {
    @Test func recordsAreSummedByProviderModelAndOutcome() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let ledger = UsageLedger(database: database, logger: Logger(label: "test"))
        ledger.record(.init(provider: "p", model: "m", outcome: "ok", promptTokens: 10, completionTokens: 5, cost: 0.015, latency: .milliseconds(100)))
        ledger.record(.init(provider: "p", model: "m", outcome: "ok", promptTokens: 20, completionTokens: 5, cost: 0.025, latency: .milliseconds(300)))
        ledger.record(.init(provider: "p", model: "m", outcome: "http_429", latency: .milliseconds(5)))
        ledger.record(.init(provider: "q", model: "n", outcome: "timeout", latency: .seconds(2)))
        await ledger.flush()
        let rows = try await ledger.summary()
        #expect(rows.count == 3)
        let ok = try #require(rows.first { $0.provider == "p" && $0.outcome == "ok" })
        #expect(ok.requests == 2 && ok.promptTokens == 30 && ok.completionTokens == 10)
        #expect(abs(ok.cost - 0.04) < 1e-9)
        #expect(abs(ok.averageLatencyMilliseconds - 200) < 1e-6)
        #expect(rows.contains { $0.provider == "q" && $0.outcome == "timeout" && $0.requests == 1 })
        #expect(try await ledger.summary(since: Date().addingTimeInterval(60)).isEmpty)
    }

    @Test func theQueueIsBounded() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let ledger = UsageLedger(database: database, capacity: 2, logger: Logger(label: "test"))
        let record = UsageRecord(provider: "p", model: "m", outcome: "ok", latency: .milliseconds(1))
        #expect(ledger.record(record))
        #expect(ledger.record(record))
        #expect(!ledger.record(record))
        await ledger.flush()
        #expect(try await ledger.summary().first?.requests == 2)
    }

    @Test func recordsQueuedAtShutdownAreWritten() async throws {
        let database = try makeTemporaryDatabase()
        defer { removeTemporaryDatabase(database) }
        let ledger = UsageLedger(database: database, gathering: .seconds(5), logger: Logger(label: "test"))
        let service = Task { try await ledger.run() }
        for _ in 0..<16 { ledger.record(UsageRecord(provider: "p", model: "m", outcome: "ok", latency: .milliseconds(1))) }
        try await Task.sleep(for: .milliseconds(100))  // the service is gathering the first batch
        service.cancel()
        try await service.value
        #expect(try await ledger.summary().first?.requests == 16)
    }
}
