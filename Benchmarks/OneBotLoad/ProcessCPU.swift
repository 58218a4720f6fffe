// SPDX-License-Identifier: Apache-2.0
import Foundation

/// CPU time consumed by a process, read from Linux's `/proc/<pid>/stat`.
///
/// Comparing the hub's CPU time with the load generator's own shows how much of the machine
/// each side used; on a 2-core box that matters as much as wall-clock throughput.
enum ProcessCPU {
    /// User plus system CPU time of `pid` in seconds, or `nil` when unavailable.
    static func seconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let closing = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)" start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: closing)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / (ticks > 0 ? ticks : 100)
    }

    /// CPU time of this process in seconds.
    static func ownSeconds() -> Double? {
        seconds(pid: getpid())
    }

    /// The CPU time between two readings, if both were available.
    static func spent(from start: Double?, to end: Double?) -> Double? {
        guard let start, let end else { return nil }
        return end - start
    }
}
