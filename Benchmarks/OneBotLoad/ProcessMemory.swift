// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Resident memory of a process, read from Linux's `/proc/<pid>/status`.
enum ProcessMemory {
    /// The process's current resident set size (`VmRSS`) in KiB, or `nil` when the process is
    /// gone or `/proc` is unavailable (non-Linux).
    static func residentKiB(pid: Int32) -> UInt64? {
        field("VmRSS:", pid: pid)
    }

    /// The process's peak resident set size since it started (`VmHWM`) in KiB.
    static func peakResidentKiB(pid: Int32) -> UInt64? {
        field("VmHWM:", pid: pid)
    }

    /// Parses a line such as `VmRSS:\t   23456 kB`.
    private static func field(_ name: String, pid: Int32) -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return parts.count >= 2 ? UInt64(parts[1]) : nil
        }
        return nil
    }
}

/// The largest resident set of a process over a series of samples, taken at most every
/// ``interval``.
struct MemoryWatch: Sendable {
    let pid: Int32?
    private(set) var peakKiB: UInt64?
    private var lastSample: UInt64 = 0

    /// Period of sampling.
    static let interval = 250 * Monotonic.millisecond

    init(pid: Int32?) {
        self.pid = pid
    }

    /// Reads the RSS if a sample is due (or `force`), keeping the maximum; returns the reading.
    @discardableResult
    mutating func sample(now: UInt64 = Monotonic.now(), force: Bool = false) -> UInt64? {
        guard let pid, force || now - min(now, lastSample) >= Self.interval else { return nil }
        lastSample = now
        let rss = ProcessMemory.residentKiB(pid: pid)
        if let rss { peakKiB = max(peakKiB ?? 0, rss) }
        return rss
    }
}
