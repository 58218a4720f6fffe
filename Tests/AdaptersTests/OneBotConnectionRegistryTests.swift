// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

@testable import Adapters

private let bot: Int64 = 3_847_291_056

@Suite struct OneBotConnectionRegistryTests {
    private func connection(_ registry: OneBotConnectionRegistry, _ role: OneBotRole, bot: Int64 = bot) -> OneBotConnection {
        OneBotConnection(selfID: bot, role: role, generation: registry.nextGeneration())
    }

    // MARK: Registering

    @Test func generationsIncrease() {
        let registry = OneBotConnectionRegistry()
        let first = registry.nextGeneration()
        let second = registry.nextGeneration()
        #expect(second > first)
    }

    @Test func newConnectionReplacesTheSameRole() {
        let registry = OneBotConnectionRegistry()
        let old = connection(registry, .universal)
        let new = connection(registry, .universal)
        #expect(registry.register(old).isEmpty)
        let replaced = registry.register(new)
        #expect(replaced.count == 1)
        #expect(replaced.first === old)
        #expect(registry.actionConnection(for: bot) === new)
        #expect(registry.allConnections.count == 1)
    }

    @Test func apiAndEventLiveSideBySide() {
        let registry = OneBotConnectionRegistry()
        let api = connection(registry, .api)
        let event = connection(registry, .event)
        #expect(registry.register(api).isEmpty)
        #expect(registry.register(event).isEmpty)
        #expect(registry.allConnections.count == 2)
        #expect(registry.actionConnection(for: bot) === api)
    }

    @Test func universalReplacesAPIAndEvent() {
        let registry = OneBotConnectionRegistry()
        let api = connection(registry, .api)
        let event = connection(registry, .event)
        _ = registry.register(api)
        _ = registry.register(event)
        let universal = connection(registry, .universal)
        let replaced = registry.register(universal)
        #expect(Set(replaced.map(\.generation)) == [api.generation, event.generation])
        #expect(registry.allConnections.map(\.generation) == [universal.generation])
        #expect(registry.actionConnection(for: bot) === universal)
    }

    @Test(arguments: [OneBotRole.api, .event])
    func splitRoleReplacesUniversal(role: OneBotRole) {
        let registry = OneBotConnectionRegistry()
        let universal = connection(registry, .universal)
        _ = registry.register(universal)
        let split = connection(registry, role)
        let replaced = registry.register(split)
        #expect(replaced.map(\.generation) == [universal.generation])
        #expect(registry.allConnections.map(\.generation) == [split.generation])
    }

    @Test func otherBotsAreLeftAlone() {
        let registry = OneBotConnectionRegistry()
        let mine = connection(registry, .universal)
        let theirs = connection(registry, .universal, bot: 1_122_334_455)
        _ = registry.register(mine)
        #expect(registry.register(theirs).isEmpty)
        #expect(registry.actionConnection(for: bot) === mine)
        #expect(registry.actionConnection(for: 1_122_334_455) === theirs)
    }

    // MARK: Unregistering

    @Test func staleUnregisterLeavesTheNewerConnection() {
        let registry = OneBotConnectionRegistry()
        let old = connection(registry, .universal)
        let new = connection(registry, .universal)
        _ = registry.register(old)
        _ = registry.register(new)
        registry.unregister(old)  // the old socket's late close
        #expect(registry.actionConnection(for: bot) === new)
        #expect(registry.connectedBots == [bot])
        registry.unregister(new)
        #expect(registry.actionConnection(for: bot) == nil)
        #expect(registry.connectedBots.isEmpty)
    }

    @Test func staleUnregisterOfAReplacedSplitRoleLeavesUniversal() {
        let registry = OneBotConnectionRegistry()
        let api = connection(registry, .api)
        _ = registry.register(api)
        let universal = connection(registry, .universal)
        _ = registry.register(universal)
        registry.unregister(api)
        #expect(registry.actionConnection(for: bot) === universal)
    }

    @Test func unregisterOfAnUnknownConnectionIsHarmless() {
        let registry = OneBotConnectionRegistry()
        registry.unregister(connection(registry, .api))
        #expect(registry.connectedBots.isEmpty)
    }

    // MARK: Action connection

    @Test func actionConnectionIsUniversalOrAPINeverEvent() {
        let registry = OneBotConnectionRegistry()
        #expect(registry.actionConnection(for: bot) == nil)
        let event = connection(registry, .event)
        _ = registry.register(event)
        #expect(registry.actionConnection(for: bot) == nil)
        let api = connection(registry, .api)
        _ = registry.register(api)
        #expect(registry.actionConnection(for: bot) === api)
        let universal = connection(registry, .universal)
        _ = registry.register(universal)
        #expect(registry.actionConnection(for: bot) === universal)
        registry.unregister(universal)
        let onlyEvent = connection(registry, .event)
        _ = registry.register(onlyEvent)
        #expect(registry.actionConnection(for: bot) == nil)
    }

    // MARK: Waiting for a connection

    @Test(.timeLimit(.minutes(1))) func waitReturnsAtOnceWhenConnected() async {
        let registry = OneBotConnectionRegistry()
        let api = connection(registry, .api)
        _ = registry.register(api)
        let start = ContinuousClock.now
        let found = await registry.waitForActionConnection(bot, timeout: .seconds(10))
        #expect(found === api)
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test(.timeLimit(.minutes(1))) func waitReturnsWhenTheBotConnectsLater() async throws {
        let registry = OneBotConnectionRegistry()
        let start = ContinuousClock.now
        let waiter = Task { await registry.waitForActionConnection(bot, timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let universal = connection(registry, .universal)
        _ = registry.register(universal)
        let found = await waiter.value
        #expect(found === universal)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test(.timeLimit(.minutes(1))) func severalWaitersAreAllWoken() async throws {
        let registry = OneBotConnectionRegistry()
        let waiters = (0..<3).map { _ in Task { await registry.waitForActionConnection(bot, timeout: .seconds(10)) } }
        try await Task.sleep(for: .milliseconds(50))
        let api = connection(registry, .api)
        _ = registry.register(api)
        for waiter in waiters {
            #expect(await waiter.value === api)
        }
    }

    @Test(.timeLimit(.minutes(1))) func waitGivesUpAfterItsTimeout() async {
        let registry = OneBotConnectionRegistry()
        let start = ContinuousClock.now
        let found = await registry.waitForActionConnection(bot, timeout: .milliseconds(200))
        let elapsed = ContinuousClock.now - start
        #expect(found == nil)
        #expect(elapsed >= .milliseconds(200))
        #expect(elapsed < .seconds(3))
    }

    @Test(.timeLimit(.minutes(1))) func eventConnectionsAndOtherBotsDoNotEndTheWait() async throws {
        let registry = OneBotConnectionRegistry()
        let start = ContinuousClock.now
        let waiter = Task { await registry.waitForActionConnection(bot, timeout: .milliseconds(200)) }
        try await Task.sleep(for: .milliseconds(30))
        _ = registry.register(connection(registry, .event))
        _ = registry.register(connection(registry, .universal, bot: 1_122_334_455))
        let found = await waiter.value
        #expect(found == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }

    @Test(.timeLimit(.minutes(1))) func aTimedOutWaiterIsNotWokenLater() async {
        let registry = OneBotConnectionRegistry()
        #expect(await registry.waitForActionConnection(bot, timeout: .milliseconds(20)) == nil)
        // Registering afterwards must not resume the finished waiter a second time (that would trap).
        let api = connection(registry, .api)
        _ = registry.register(api)
        #expect(await registry.waitForActionConnection(bot, timeout: .milliseconds(20)) === api)
    }

    // MARK: Connected bots

    @Test func connectedBotsAreSortedAndFollowUnregistering() {
        let registry = OneBotConnectionRegistry()
        let three = connection(registry, .universal, bot: 3)
        let oneAPI = connection(registry, .api, bot: 1)
        let oneEvent = connection(registry, .event, bot: 1)
        let two = connection(registry, .universal, bot: 2)
        for connection in [three, oneAPI, oneEvent, two] { _ = registry.register(connection) }
        #expect(registry.connectedBots == [1, 2, 3])
        registry.unregister(two)
        #expect(registry.connectedBots == [1, 3])
        registry.unregister(oneAPI)
        #expect(registry.connectedBots == [1, 3])  // its Event connection is still there
        #expect(registry.actionConnection(for: 1) == nil)
        registry.unregister(oneEvent)
        #expect(registry.connectedBots == [3])
    }
}
