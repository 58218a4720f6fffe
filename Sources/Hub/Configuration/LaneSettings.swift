// SPDX-License-Identifier: Apache-2.0

/// `lanes`: the scheduler's limits per kind of work, so one kind cannot starve another.
///
/// ```yaml
/// lanes: { realtime: { max_concurrent: 256, queue: 4096 }, cpu: { max_concurrent: 2, queue: 256 }, batch: { max_concurrent: 1, queue: 1024 },
///          notices: { max_concurrent: 16, queue: 1024 } }
/// ```
struct LaneSettings: ConfigurationSection {
    /// One lane's limits. When ``maxConcurrent`` jobs run and ``queue`` wait, callers are refused.
    struct LaneLimits: Sendable, Codable, Equatable {
        /// Jobs running at once.
        var maxConcurrent: Int
        /// Jobs waiting at most (0: no waiting).
        var queue: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxConcurrent = "max_concurrent"
            case queue
        }
    }

    /// LLM chat turns. `HUB_LANES_REALTIME_MAX_CONCURRENT`, `HUB_LANES_REALTIME_QUEUE`.
    var realtime = LaneLimits(maxConcurrent: 256, queue: 4096)
    /// TTS and STT. `HUB_LANES_CPU_MAX_CONCURRENT`, `HUB_LANES_CPU_QUEUE`.
    var cpu = LaneLimits(maxConcurrent: 2, queue: 256)
    /// Image generation. `HUB_LANES_BATCH_MAX_CONCURRENT`, `HUB_LANES_BATCH_QUEUE`.
    var batch = LaneLimits(maxConcurrent: 1, queue: 1024)
    /// Short notices ("busy", "slow down") sent off the doors' read paths; when full, a notice is
    /// dropped (the message was refused either way). `HUB_LANES_NOTICES_MAX_CONCURRENT`, `HUB_LANES_NOTICES_QUEUE`.
    var notices = LaneLimits(maxConcurrent: 16, queue: 1024)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case realtime
        case cpu
        case batch
        case notices
    }
}

extension LaneSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        // Each lane has its own defaults, so lanes decode as partial limits laid over them.
        realtime = try container.decode(.realtime, default: PartialLaneLimits()).applied(to: defaults.realtime)
        cpu = try container.decode(.cpu, default: PartialLaneLimits()).applied(to: defaults.cpu)
        batch = try container.decode(.batch, default: PartialLaneLimits()).applied(to: defaults.batch)
        notices = try container.decode(.notices, default: PartialLaneLimits()).applied(to: defaults.notices)
    }

    func validate(into validator: inout ConfigurationValidator) {
        for (name, lane) in [("realtime", realtime), ("cpu", cpu), ("batch", batch), ("notices", notices)] {
            validator.positive(lane.maxConcurrent, "lanes.\(name).max_concurrent")
            validator.nonNegative(lane.queue, "lanes.\(name).queue")
        }
    }
}

extension LaneSettings.LaneLimits {
    /// Decoded outside ``LaneSettings`` both keys are required.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxConcurrent = try container.decode(Int.self, forKey: .maxConcurrent)
        queue = try container.decode(Int.self, forKey: .queue)
    }
}

/// A lane as written in the file: keys left out keep the lane's defaults.
private struct PartialLaneLimits: ConfigurationSection {
    var maxConcurrent: Int?
    var queue: Int?

    typealias CodingKeys = LaneSettings.LaneLimits.CodingKeys

    func applied(to defaults: LaneSettings.LaneLimits) -> LaneSettings.LaneLimits {
        LaneSettings.LaneLimits(maxConcurrent: maxConcurrent ?? defaults.maxConcurrent, queue: queue ?? defaults.queue)
    }
}

extension PartialLaneLimits {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        queue = try container.decodeIfPresent(Int.self, forKey: .queue)
    }
}
