// SPDX-License-Identifier: Apache-2.0

/// Where a job is in its life: `queued` → `running` → `succeeded` | `failed` | `cancelled`.
/// A job whose attempt failed with budget left goes back to `queued`; one that was running when
/// the hub stopped is queued again on start.
public enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    /// Whether the job is over.
    public var isFinished: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }
}
