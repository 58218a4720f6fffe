// SPDX-License-Identifier: Apache-2.0
import Logging

/// Drives one load run: opens the connections, runs the warm-up and measured phases, samples
/// the hub's memory and CPU, and produces a ``RunReport``.
struct LoadRun: Sendable {
    let configuration: LoadConfiguration

    /// Period of the driver's timeout / heartbeat / progress checks.
    private static let tickInterval = 10 * Monotonic.millisecond

    /// Runs the whole benchmark and returns its report.
    func execute() async throws -> RunReport {
        let configuration = self.configuration
        let hubPID = configuration.hubPID
        let rssIdle = hubPID.flatMap(ProcessMemory.residentKiB(pid:))
        let logger = {
            var logger = Logger(label: "OneBotLoad")
            logger.logLevel = .critical
            return logger
        }()
        let bots = (0..<configuration.bots).map { SimulatedBot(index: $0, configuration: configuration) }

        return try await withThrowingTaskGroup(of: Void.self, returning: RunReport.self) { group in
            for bot in bots {
                group.addTask {
                    await bot.run(url: configuration.url, token: configuration.token, logger: logger)
                }
            }
            let report: RunReport
            do {
                try await waitForConnections(bots)
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
                report = RunReport(
                    configuration: configuration,
                    stats: phase.stats,
                    rssIdleKiB: rssIdle,
                    rssEndKiB: hubPID.flatMap(ProcessMemory.residentKiB(pid:)),
                    rssPeakKiB: phase.rssPeakKiB,
                    hubCPUSeconds: Self.difference(hubCPUStart, hubCPUEnd),
                    toolCPUSeconds: Self.difference(toolCPUStart, toolCPUEnd),
                    failures: bots.compactMap { bot in bot.status.failure.map { "bot \(bot.selfID): \($0)" } }
                )
            } catch {
                for bot in bots { await bot.close() }
                group.cancelAll()
                throw error
            }
            for bot in bots { await bot.close() }
            try await group.waitForAll()
            return report
        }
    }

    /// Waits until every connection is open, or throws when one fails or time runs out.
    private func waitForConnections(_ bots: [SimulatedBot]) async throws {
        let deadline = Monotonic.now() + configuration.connectTimeout
        while true {
            let statuses = bots.map(\.status)
            if let failed = zip(bots, statuses).first(where: { $0.1.finished }) {
                throw LoadRunError.connectFailed(selfID: failed.0.selfID, reason: failed.1.failure ?? "closed")
            }
            if statuses.allSatisfy(\.connected) { return }
            guard Monotonic.now() < deadline else { throw LoadRunError.connectTimedOut }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// What a phase produced.
    private struct PhaseResult {
        var stats: PhaseStats
        var rssPeakKiB: UInt64?
    }

    /// Runs one phase of `events` events in the configured mode and waits for every event to
    /// be answered or timed out.
    private func runPhase(events: Int, bots: [SimulatedBot]) async throws -> PhaseResult {
        var monitor = PhaseMonitor(hubPID: configuration.hubPID, users: configuration.users)
        if let rate = configuration.rate {
            for bot in bots { bot.startOpenPhase() }
            try await sendOnSchedule(events: events, rate: rate, bots: bots, monitor: &monitor)
        } else {
            // Each bot's share of the events is proportional to its users.
            var assigned = 0
            for bot in bots {
                let share = events * (assigned + bot.localUserCount) / configuration.users
                    - events * assigned / configuration.users
                assigned += bot.localUserCount
                await bot.startClosedPhase(budget: share)
            }
        }
        while true {
            let now = Monotonic.now()
            for bot in bots { await bot.tick(now: now) }
            let statuses = bots.map(\.status)
            if statuses.allSatisfy(\.idle) { break }
            if monitor.observe(statuses, now: now) {
                Console.error("warning: the hub has stopped replying; draining events in flight")
                for bot in bots { bot.stopIssuing() }
            }
            try await Task.sleep(nanoseconds: Self.tickInterval)
        }
        var stats = PhaseStats()
        for bot in bots { stats.merge(bot.phaseStats()) }
        monitor.sampleMemory(now: Monotonic.now(), force: true)
        return PhaseResult(stats: stats, rssPeakKiB: monitor.rssPeakKiB)
    }

    /// Open loop: sends `events` events at `rate` per second on a fixed schedule, round-robin
    /// over all users. Events that fall due while the loop is late go out in a burst, keeping
    /// their scheduled times as the start of their latency.
    private func sendOnSchedule(events: Int, rate: Double, bots: [SimulatedBot], monitor: inout PhaseMonitor) async throws {
        let interval = 1e9 / rate
        let start = Monotonic.now() + Monotonic.millisecond
        let users = configuration.users
        var next = 0
        var lastTick = start
        while next < events {
            let now = Monotonic.now()
            while next < events {
                let due = start + UInt64(Double(next) * interval)
                guard due <= now else { break }
                let user = next % users
                await bots[user % bots.count].sendScheduled(user: user / bots.count, scheduledAt: due)
                next += 1
            }
            if now - min(now, lastTick) >= Self.tickInterval {
                lastTick = now
                for bot in bots { await bot.tick(now: now) }
                if monitor.observe(bots.map(\.status), now: now) {
                    Console.error("warning: the hub has stopped replying; stopping the schedule")
                    return
                }
            }
            guard next < events else { break }
            let due = start + UInt64(Double(next) * interval)
            try await Monotonic.sleep(until: min(due, now + Self.tickInterval))
        }
    }

    private static func difference(_ start: Double?, _ end: Double?) -> Double? {
        guard let start, let end else { return nil }
        return end - start
    }
}

/// Progress watch and memory sampling while a phase runs.
private struct PhaseMonitor {
    let hubPID: Int32?
    let users: Int
    private(set) var rssPeakKiB: UInt64?
    private var lastSample: UInt64 = 0
    private var lastReplies = -1
    private var timeoutsAtLastReply = 0
    private var stalled = false

    /// Period of RSS sampling.
    private static let rssInterval = 250 * Monotonic.millisecond

    init(hubPID: Int32?, users: Int) {
        self.hubPID = hubPID
        self.users = users
    }

    /// Samples memory and returns `true` once, when the hub first looks dead: as many events
    /// as there are users have timed out since the last reply arrived.
    mutating func observe(_ statuses: [SimulatedBot.Status], now: UInt64) -> Bool {
        sampleMemory(now: now, force: false)
        let replies = statuses.reduce(0) { $0 + $1.replies }
        let timeouts = statuses.reduce(0) { $0 + $1.timeouts }
        if replies != lastReplies {
            lastReplies = replies
            timeoutsAtLastReply = timeouts
            return false
        }
        guard !stalled, timeouts - timeoutsAtLastReply >= max(users, 1) else { return false }
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

/// Why a run could not start.
enum LoadRunError: Error, CustomStringConvertible {
    case connectFailed(selfID: Int64, reason: String)
    case connectTimedOut

    var description: String {
        switch self {
        case .connectFailed(let selfID, let reason): "bot \(selfID) could not connect: \(reason)"
        case .connectTimedOut: "timed out waiting for the WebSocket connections to open"
        }
    }
}
