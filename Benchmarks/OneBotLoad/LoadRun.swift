// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix

/// Drives one load run: opens the connections, runs the warm-up and measured phases, samples
/// the hub's memory and CPU, and produces a ``RunReport``.
///
/// The driver only starts phases and polls the bots every ``pollInterval``; the per-event
/// work happens on the bots' event loops.
struct LoadRun: Sendable {
    let configuration: LoadConfiguration

    /// How often the driver checks progress.
    private static let pollInterval = 10 * Monotonic.millisecond

    /// Runs the whole benchmark and returns its report.
    func execute() async throws -> RunReport {
        let configuration = self.configuration
        let endpoint = try WebSocketEndpoint(url: configuration.url)
        let hubPID = configuration.hubPID
        let rssIdle = hubPID.flatMap(ProcessMemory.residentKiB(pid:))
        let group = MultiThreadedEventLoopGroup.singleton
        let bots = (0..<configuration.bots).map {
            SimulatedBot(index: $0, configuration: configuration, eventLoop: group.next())
        }
        do {
            try await connectAll(bots, to: endpoint)
            // Let the hub finish its own per-connection work (get_login_info, …).
            try await Task.sleep(for: .milliseconds(200))
            if configuration.warmup > 0 {
                _ = try await runPhase(events: configuration.warmup, bots: bots)
            }
            let hubCPUStart = hubPID.flatMap(ProcessCPU.seconds(pid:))
            let toolCPUStart = ProcessCPU.ownSeconds()
            let phase = try await runPhase(events: configuration.events, bots: bots)
            let hubCPUEnd = hubPID.flatMap(ProcessCPU.seconds(pid:))
            let toolCPUEnd = ProcessCPU.ownSeconds()
            var failures: [String] = []
            for bot in bots {
                if let failure = try await bot.status().failure { failures.append("bot \(bot.selfID): \(failure)") }
            }
            let report = RunReport(
                configuration: configuration,
                stats: phase.stats,
                rssIdleKiB: rssIdle,
                rssEndKiB: hubPID.flatMap(ProcessMemory.residentKiB(pid:)),
                rssPeakKiB: phase.rssPeakKiB,
                hubCPUSeconds: Self.difference(hubCPUStart, hubCPUEnd),
                toolCPUSeconds: Self.difference(toolCPUStart, toolCPUEnd),
                failures: failures
            )
            for bot in bots { await bot.close() }
            return report
        } catch {
            for bot in bots { await bot.close() }
            throw error
        }
    }

    /// Opens every connection concurrently; throws on the first failure or on timeout.
    private func connectAll(_ bots: [SimulatedBot], to endpoint: WebSocketEndpoint) async throws {
        let token = configuration.token
        let timeout = configuration.connectTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            for bot in bots {
                group.addTask {
                    do {
                        try await bot.connect(to: endpoint, token: token, timeout: .nanoseconds(Int64(timeout)))
                    } catch {
                        throw LoadRunError.connectFailed(selfID: bot.selfID, url: endpoint.description, reason: "\(error)")
                    }
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: timeout)
                throw LoadRunError.connectTimedOut
            }
            for _ in bots { try await group.next() }
            group.cancelAll()
        }
    }

    /// What a phase produced.
    private struct PhaseResult {
        var stats: PhaseStats
        var rssPeakKiB: UInt64?
    }

    /// Runs one phase of `events` events in the configured mode and waits until every event has
    /// been answered or has timed out.
    private func runPhase(events: Int, bots: [SimulatedBot]) async throws -> PhaseResult {
        var monitor = PhaseMonitor(hubPID: configuration.hubPID, timeout: configuration.timeout)
        if let rate = configuration.rate {
            let start = Monotonic.now() + 5 * Monotonic.millisecond
            for bot in bots {
                try await bot.startOpenPhase(OpenLoopSchedule(
                    start: start, rate: rate, total: events, users: configuration.users,
                    bots: configuration.bots, bot: bot.index
                ))
            }
        } else {
            // Each bot's share of the events is proportional to its users.
            var assigned = 0
            for bot in bots {
                let share = events * (assigned + bot.localUserCount) / configuration.users
                    - events * assigned / configuration.users
                assigned += bot.localUserCount
                try await bot.startClosedPhase(budget: share)
            }
        }
        while true {
            try await Task.sleep(nanoseconds: Self.pollInterval)
            var statuses: [SimulatedBot.Status] = []
            for bot in bots { statuses.append(try await bot.status()) }
            if statuses.allSatisfy(\.idle) { break }
            if monitor.observe(statuses, now: Monotonic.now()) {
                Console.error("warning: the hub has stopped replying; draining the events in flight")
                for bot in bots { try await bot.stopIssuing() }
            }
        }
        var stats = PhaseStats()
        for bot in bots { stats.merge(try await bot.phaseStats()) }
        monitor.sampleMemory(now: Monotonic.now(), force: true)
        return PhaseResult(stats: stats, rssPeakKiB: monitor.rssPeakKiB)
    }

    private static func difference(_ start: Double?, _ end: Double?) -> Double? {
        guard let start, let end else { return nil }
        return end - start
    }
}

/// Progress watch and memory sampling while a phase runs.
private struct PhaseMonitor {
    let hubPID: Int32?
    /// How long without any reply, while events remain to be sent, means the hub has stalled.
    let stallAfter: UInt64
    private(set) var rssPeakKiB: UInt64?
    private var lastSample: UInt64 = 0
    private var lastReplies = -1
    private var lastReplyChange: UInt64 = 0
    private var stalled = false

    /// Period of RSS sampling.
    private static let rssInterval = 250 * Monotonic.millisecond

    /// - Parameter timeout: the per-event timeout; a stall is declared after twice that.
    init(hubPID: Int32?, timeout: UInt64) {
        self.hubPID = hubPID
        self.stallAfter = 2 * timeout
    }

    /// Samples memory and returns `true` once, when the hub first looks stalled: no reply for
    /// twice the per-event timeout while events remain to be sent. Without this, a dead hub
    /// would cost a full timeout per remaining event and user.
    mutating func observe(_ statuses: [SimulatedBot.Status], now: UInt64) -> Bool {
        sampleMemory(now: now, force: false)
        let replies = statuses.reduce(0) { $0 + $1.replies }
        if replies != lastReplies {
            lastReplies = replies
            lastReplyChange = now
            return false
        }
        guard !stalled, statuses.contains(where: \.pending), now - lastReplyChange >= stallAfter else { return false }
        stalled = true
        return true
    }

    /// Reads the hub's RSS if a sample is due (or `force`), keeping the maximum.
    mutating func sampleMemory(now: UInt64, force: Bool) {
        guard let hubPID, force || now - min(now, lastSample) >= Self.rssInterval else { return }
        lastSample = now
        if let rss = ProcessMemory.residentKiB(pid: hubPID) {
            rssPeakKiB = max(rssPeakKiB ?? 0, rss)
        }
    }
}
