// SPDX-License-Identifier: Apache-2.0

/// `engine`: how the one pipeline behind every door keeps what it accepted.
///
/// ```yaml
/// engine: { replay_window: 600 }
/// ```
struct EngineConfiguration: ConfigurationSection {
    /// Seconds: at start, every accepted event left unanswered by a crash and younger than this is
    /// answered; older ones are marked expired and logged (an answer that late is worse than none).
    /// `HUB_ENGINE_REPLAY_WINDOW`.
    var replayWindow: Double = 600

    enum CodingKeys: String, CodingKey, CaseIterable {
        case replayWindow = "replay_window"
    }
}

extension EngineConfiguration {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replayWindow = try container.decode(.replayWindow, default: Self().replayWindow)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.nonNegative(replayWindow, "engine.replay_window")
    }
}
