// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct InboundDeduplicatorTests {
    @Test func duplicateWithinTheWindow() {
        let dedupe = InboundDeduplicator(window: 300, capacity: 100)
        #expect(dedupe.firstSighting("e1", bot: "qq:1", at: 1000))
        #expect(!dedupe.firstSighting("e1", bot: "qq:1", at: 1000))
        #expect(!dedupe.firstSighting("e1", bot: "qq:1", at: 1299))
        // Exactly at the end of the window it is still a duplicate.
        #expect(!dedupe.firstSighting("e1", bot: "qq:1", at: 1300))
        #expect(dedupe.firstSighting("e2", bot: "qq:1", at: 1300))
    }

    @Test func expiresAfterTheWindow() {
        let dedupe = InboundDeduplicator(window: 300, capacity: 100)
        #expect(dedupe.firstSighting("e1", bot: "qq:1", at: 1000))
        #expect(dedupe.firstSighting("e2", bot: "qq:1", at: 1200))
        #expect(dedupe.firstSighting("e1", bot: "qq:1", at: 1300.5))
        // e2 is still inside its own window; the fresh e1 is too.
        #expect(!dedupe.firstSighting("e2", bot: "qq:1", at: 1400))
        #expect(!dedupe.firstSighting("e1", bot: "qq:1", at: 1400))
        #expect(dedupe.firstSighting("e2", bot: "qq:1", at: 1600))
    }

    @Test func capacityEvictsTheOldest() {
        let dedupe = InboundDeduplicator(window: 300, capacity: 3)
        for key in ["a", "b", "c"] { #expect(dedupe.firstSighting(key, bot: "qq:1", at: 10)) }
        #expect(dedupe.firstSighting("d", bot: "qq:1", at: 11))  // evicts a
        #expect(dedupe.firstSighting("a", bot: "qq:1", at: 12))  // evicts b
        #expect(!dedupe.firstSighting("c", bot: "qq:1", at: 13))
        #expect(!dedupe.firstSighting("d", bot: "qq:1", at: 13))
        #expect(!dedupe.firstSighting("a", bot: "qq:1", at: 13))
        #expect(dedupe.firstSighting("b", bot: "qq:1", at: 13))
    }

    @Test func everyKeyHeldWithinCapacityIsStillADuplicate() {
        // With room for 3 keys, all three are remembered: a repeat of the oldest one is a duplicate,
        // and checking a repeat must not push another key out.
        let dedupe = InboundDeduplicator(window: 300, capacity: 3)
        for key in ["a", "b", "c"] { #expect(dedupe.firstSighting(key, bot: "qq:1", at: 10)) }
        #expect(!dedupe.firstSighting("a", bot: "qq:1", at: 11))
        #expect(!dedupe.firstSighting("b", bot: "qq:1", at: 11))
        #expect(!dedupe.firstSighting("c", bot: "qq:1", at: 11))
        #expect(!dedupe.firstSighting("a", bot: "qq:1", at: 11))
    }

    @Test func capacityOfOne() {
        let dedupe = InboundDeduplicator(window: 300, capacity: 0)  // clamped to 1
        #expect(dedupe.firstSighting("a", bot: "b", at: 1))
        #expect(!dedupe.firstSighting("a", bot: "b", at: 2))
        #expect(dedupe.firstSighting("b", bot: "b", at: 3))
        #expect(dedupe.firstSighting("a", bot: "b", at: 4))
    }

    @Test func botsAreSeparate() {
        let dedupe = InboundDeduplicator(window: 300, capacity: 2)
        #expect(dedupe.firstSighting("e1", bot: "qq:1", at: 0))
        #expect(dedupe.firstSighting("e1", bot: "qq:2", at: 0))
        #expect(dedupe.firstSighting("e1", bot: "web:1", at: 0))
        // Filling bot 2 does not evict bot 1's keys.
        for key in ["x", "y", "z"] { #expect(dedupe.firstSighting(key, bot: "qq:2", at: 1)) }
        #expect(!dedupe.firstSighting("e1", bot: "qq:1", at: 2))
        #expect(dedupe.firstSighting("e1", bot: "qq:2", at: 2))
    }

    @Test func concurrentSightingsAdmitExactlyOne() async {
        let dedupe = InboundDeduplicator(window: 300, capacity: 10_000)
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask { (0..<100).filter { dedupe.firstSighting("k\($0)", bot: "qq:1", at: 5) }.count }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 100)
    }
}

@Suite struct SentMessageLedgerTests {
    @Test func remembersPerPlatformAndBot() {
        let ledger = SentMessageLedger()
        ledger.record("42", platform: .qq, bot: "1")
        #expect(ledger.contains("42", platform: .qq, bot: "1"))
        #expect(!ledger.contains("42", platform: .qq, bot: "2"))
        #expect(!ledger.contains("42", platform: .web, bot: "1"))
        #expect(!ledger.contains("43", platform: .qq, bot: "1"))
    }

    @Test func capacityForgetsTheOldest() {
        let ledger = SentMessageLedger(capacity: 3)
        for id in ["1", "2", "3"] { ledger.record(id, platform: .qq, bot: "b") }
        // Recording a known id again does not count twice.
        ledger.record("1", platform: .qq, bot: "b")
        #expect(ledger.contains("1", platform: .qq, bot: "b"))
        ledger.record("4", platform: .qq, bot: "b")
        #expect(!ledger.contains("1", platform: .qq, bot: "b"))
        #expect(["2", "3", "4"].allSatisfy { ledger.contains($0, platform: .qq, bot: "b") })
        ledger.record("5", platform: .web, bot: "b")
        #expect(!ledger.contains("2", platform: .qq, bot: "b"))
        #expect(ledger.contains("5", platform: .web, bot: "b"))
    }
}
