// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix

/// Drives one load run: opens the connections, runs the warm-up and measured phases, samples
/// the hub's memory and CPU, and produces a ``RunReport``.
///
/// The driver only starts phases and polls the connections every ``pollInterval``; the
/// per-event work happens on the connections' event loops.
struct LoadRun<Connection: LoadConnection>: Sendable {
    let configuration: LoadConfiguration
    /// Makes connection `index` on `eventLoop`.
    let makeConnection: @Sendable (_ index: Int, _ eventLoop: any EventLoop) -> Connection

    /// How often the driver checks progress.
    private static var pollInterval: UInt64 { 10 * Monotonic.millisecond }

    /// Runs the whole benchmark and returns its report.
    func execute() async throws -> RunReport {
        let configuration = self.configuration
        let endpoint = try Endpoint(url: configuration.url, scheme: configuration.kind == .http ? "http" : "ws")
        let hubPID = configuration.hubPID
        let rssIdle = hubPID.flatMap(ProcessMemory.residentKiB(pid:))
        let group = MultiThreadedEventLoopGroup.singleton
        let connections = (0..<configuration.bots).map { makeConnection($0, group.next()) }
        do {
            let refused = await LoadConnections.connect(
                connections, to: endpoint, token: configuration.token,
                timeout: .nanoseconds(Int64(configuration.connectTimeout)), concurrency: connections.count
            )
            if let (connection, error) = refused.first {
                throw LoadRunError.connectFailed(connection: connection.name, url: endpoint.description, reason: "\(error)")
            }
            // Let the hub finish its own per-connection work (get_login_info, …).
            try await Task.sleep(for: .milliseconds(200))
            if configuration.warmup > 0 {
                _ = try await runPhase(events: configuration.warmup, connections: connections)
            }
            let hubCPUStart = hubPID.flatMap(ProcessCPU.seconds(pid:))
            let toolCPUStart = ProcessCPU.ownSeconds()
            let phase = try await runPhase(events: configuration.events, connections: connections)
            let hubCPUEnd = hubPID.flatMap(ProcessCPU.seconds(pid:))
            let toolCPUEnd = ProcessCPU.ownSeconds()
            var failures: [String] = []
            for connection in connections {
                if let failure = try await connection.status().failure { failures.append("\(connection.name): \(failure)") }
            }
            let report = RunReport(
                configuration: configuration,
                stats: phase.stats,
                rssIdleKiB: rssIdle,
                rssEndKiB: hubPID.flatMap(ProcessMemory.residentKiB(pid:)),
                rssPeakKiB: phase.rssPeakKiB,
                hubCPUSeconds: ProcessCPU.spent(from: hubCPUStart, to: hubCPUEnd),
                toolCPUSeconds: ProcessCPU.spent(from: toolCPUStart, to: toolCPUEnd),
                failures: failures
            )
            await LoadConnections.close(connections, concurrency: connections.count)
            return report
        } catch {
            await LoadConnections.close(connections, concurrency: connections.count)
            throw error
        }
    }

    /// What a phase produced.
    private struct PhaseResult {
        var stats: PhaseStats
        var rssPeakKiB: UInt64?
    }

    /// Runs one phase of `events` events in the configured mode and waits until every event has
    /// been answered or has timed out.
    private func runPhase(events: Int, connections: [Connection]) async throws -> PhaseResult {
        var monitor = PhaseMonitor(hubPID: configuration.hubPID, timeout: configuration.timeout)
        if let rate = configuration.rate {
            let start = Monotonic.now() + 5 * Monotonic.millisecond
            for connection in connections {
                try await connection.startOpenPhase(OpenLoopSchedule(
                    start: start, rate: rate, total: events, users: configuration.users,
                    bots: configuration.bots, bot: connection.index
                ))
            }
        } else {
            // Each connection's share of the events is proportional to its users.
            var assigned = 0
            for connection in connections {
                let share = events * (assigned + connection.localUserCount) / configuration.users
                    - events * assigned / configuration.users
                assigned += connection.localUserCount
                try await connection.startClosedPhase(budget: share)
            }
        }
        while true {
            try await Task.sleep(nanoseconds: Self.pollInterval)
            let statuses = try await LoadConnections.statuses(connections)
            if statuses.allSatisfy(\.idle) { break }
            if monitor.observe(statuses, now: Monotonic.now()) {
                Console.error("warning: the hub has stopped replying; draining the events in flight")
                for connection in connections { try await connection.stopIssuing() }
            }
        }
        var stats = PhaseStats()
        for connection in connections { stats.merge(try await connection.phaseStats()) }
        monitor.sampleMemory(now: Monotonic.now(), force: true)
        return PhaseResult(stats: stats, rssPeakKiB: monitor.rssPeakKiB)
    }
}

/// Progress watch and memory sampling while a phase runs.
private struct PhaseMonitor {
    /// How long without any answer, while events remain to be sent, means the hub has stalled.
    let stallAfter: UInt64
    private var memory: MemoryWatch
    private var lastReplies = -1
    private var lastReplyChange: UInt64 = 0
    private var stalled = false

    /// - Parameter timeout: the per-event timeout; a stall is declared after twice that.
    init(hubPID: Int32?, timeout: UInt64) {
        self.memory = MemoryWatch(pid: hubPID)
        self.stallAfter = 2 * timeout
    }

    var rssPeakKiB: UInt64? { memory.peakKiB }

    /// Samples memory and returns `true` once, when the hub first looks stalled: no answer for
    /// twice the per-event timeout while events remain to be sent. Without this, a dead hub
    /// would cost a full timeout per remaining event and user.
    mutating func observe(_ statuses: [LoadConnectionStatus], now: UInt64) -> Bool {
        sampleMemory(now: now, force: false)
        let replies = statuses.reduce(0) { $0 + $1.answered }
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
        memory.sample(now: now, force: force)
    }
}
