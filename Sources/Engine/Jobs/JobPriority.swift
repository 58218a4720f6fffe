// SPDX-License-Identifier: Apache-2.0

/// How soon a job should run. Higher priorities are taken first; a job that waits long enough
/// is treated as one level higher for every aging step it waited (``JobQueue/Settings/aging``),
/// so a low job is never starved by a stream of high ones.
public enum JobPriority: String, Sendable, Hashable, Codable, CaseIterable {
    case high, normal, low

    /// 0 for `high`, 1 for `normal`, 2 for `low`: lower runs first.
    public var rank: Int {
        switch self {
        case .high: 0
        case .normal: 1
        case .low: 2
        }
    }
}
