// SPDX-License-Identifier: Apache-2.0

/// A lane as the resources API reports it: what runs and waits now, its limits, and how much it
/// refused since the hub started.
public struct LaneSnapshot: Sendable, Hashable, Codable {
    public var running: Int
    public var queued: Int
    public var maxConcurrent: Int
    public var queueLimit: Int
    /// Work refused for a full queue since start.
    public var refused: Int

    public init(running: Int, queued: Int, maxConcurrent: Int, queueLimit: Int, refused: Int) {
        self.running = running
        self.queued = queued
        self.maxConcurrent = maxConcurrent
        self.queueLimit = queueLimit
        self.refused = refused
    }

    enum CodingKeys: String, CodingKey {
        case running, queued, refused
        case maxConcurrent = "max_concurrent"
        case queueLimit = "queue_limit"
    }
}
