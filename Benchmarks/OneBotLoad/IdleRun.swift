// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import NIOPosix

/// Opens many web chat clients, holds them idle and samples the hub's memory: the driver of
/// `web-idle`.
struct IdleRun: Sendable {
    var url: String
    var token: String?
    var clients: Int
    /// Handshakes in progress at once.
    var batch: Int
    /// How long to hold the clients, ns.
    var hold: UInt64
    /// How long one client may take to connect and be greeted, ns.
    var connectTimeout: UInt64
    var clientPrefix: String
    var hubPID: Int32?
    var label: String?

    /// How long to wait after closing before the last RSS reading, so the hub can let go.
    private static let settle = 2 * Monotonic.second

    func execute() async throws -> IdleReport {
        let endpoint = try Endpoint(url: url)
        let group = MultiThreadedEventLoopGroup.singleton
        let connections = (0..<clients).map {
            WebChatDialect.client(index: $0, prefix: clientPrefix, timeout: Monotonic.second, eventLoop: group.next())
        }
        var report = IdleReport(run: self)
        report.rssIdleKiB = rss()
        let watch = Self.watchMemory(pid: hubPID)

        // Connect.
        let hubCPUStart = hubCPU()
        let toolCPUStart = ProcessCPU.ownSeconds()
        let connectStart = Monotonic.now()
        let failed = await LoadConnections.connect(
            connections, to: endpoint, token: token, timeout: .nanoseconds(Int64(connectTimeout)), concurrency: batch
        )
        report.connectSeconds = Double(Monotonic.now() - connectStart) / 1e9
        report.connected = clients - failed.count
        for (_, error) in failed { report.connectFailures["\(error)", default: 0] += 1 }
        report.rssConnectedKiB = rss()
        let hubCPUConnected = hubCPU()

        // Hold.
        try await Task.sleep(nanoseconds: hold)
        report.rssHeldKiB = rss()
        report.hubCPUConnectSeconds = ProcessCPU.spent(from: hubCPUStart, to: hubCPUConnected)
        report.hubCPUHoldSeconds = ProcessCPU.spent(from: hubCPUConnected, to: hubCPU())
        var failures: [String: Int] = [:]
        for status in try await LoadConnections.statuses(connections) {
            if status.connected, !status.finished { report.openAfterHold += 1 }
            if status.connected, let failure = status.failure { failures[failure, default: 0] += 1 }
        }
        report.dropFailures = failures
        report.toolCPUSeconds = ProcessCPU.spent(from: toolCPUStart, to: ProcessCPU.ownSeconds())
        report.toolRSSKiB = ProcessMemory.residentKiB(pid: getpid())

        // Close, and see what the hub gives back.
        let closeStart = Monotonic.now()
        await LoadConnections.close(connections, concurrency: batch)
        report.closeSeconds = Double(Monotonic.now() - closeStart) / 1e9
        try await Task.sleep(nanoseconds: Self.settle)
        report.rssClosedKiB = rss()
        watch.cancel()
        report.rssPeakKiB = await watch.value
        return report
    }

    private func rss() -> UInt64? {
        hubPID.flatMap(ProcessMemory.residentKiB(pid:))
    }

    private func hubCPU() -> Double? {
        hubPID.flatMap(ProcessCPU.seconds(pid:))
    }

    /// Samples the RSS of `pid` until cancelled; returns the peak.
    private static func watchMemory(pid: Int32?) -> Task<UInt64?, Never> {
        Task {
            var watch = MemoryWatch(pid: pid)
            while !Task.isCancelled {
                watch.sample()
                try? await Task.sleep(nanoseconds: MemoryWatch.interval)
            }
            watch.sample(force: true)
            return watch.peakKiB
        }
    }
}
