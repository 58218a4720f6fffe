// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine

/// A configuration fuzz input: the environment lines it starts with, and the YAML text.
struct ConfigurationInput {
    /// The environment of every input, plus its own `#env` lines.
    static let baseEnvironment = ["HUB_FUZZ_KEY": "sk-fuzz", "HUB_FUZZ_PORT": "8081", "HUB_FUZZ_EMPTY": ""]

    var environment = baseEnvironment
    /// The whole text: `#env` lines are comments to YAML, and keep the lines numbered as in the input.
    let yaml: String

    init(_ text: String) {
        yaml = text
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("#env ") else { break }
            let assignment = line.dropFirst(5)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
    }

    /// The conversions start-up makes from an accepted configuration (HubComponents), none of which
    /// may trap: validation has to keep every number in range for them.
    static func startUp(_ configuration: HubConfiguration) {
        _ = try? configuration.redis.clientConfiguration()
        _ = Duration.milliseconds(Int64(configuration.redis.historyTTL * 1000))
        let llm = configuration.llm
        let longestTimeout = llm.providers.map(\.timeout).max() ?? 30
        _ = Duration.seconds(llm.providers.map(\.connectTimeout).max() ?? 5)
        _ = Duration.seconds(max(60, longestTimeout))
        for provider in llm.providers { _ = Duration.seconds(provider.timeout) }
        _ = Duration.milliseconds(Int64(llm.circuitBreaker.recoveryTimeout * 1000))
        _ = Duration.milliseconds(Int64(llm.routing.deadline * 1000))
        _ = Duration.milliseconds(Int64(llm.caching.ttl * 1000))
        let chat = configuration.chat
        for rate in [chat.rateLimit.perUser, chat.rateLimit.perGroup, configuration.web.rateLimit, configuration.gateway.rateLimit] where !rate.isOff {
            _ = Duration.milliseconds(Int64(rate.seconds * 1000))
        }
        _ = Duration.seconds(chat.dedupeWindow)
        let onebot = configuration.onebot
        for seconds in [onebot.actionTimeout, onebot.mediaActionTimeout, onebot.replyWait] { _ = Duration.seconds(seconds) }
        // The heartbeat watchdog adds the grace to the longest interval a bot may report.
        let grace = Duration.seconds(onebot.heartbeatGrace).nanoseconds
        _ = OneBotHeartbeatInterval.range.upperBound * 1_000_000 + grace
        _ = min(onebot.maxFrameBytes, max(configuration.server.maxBodyBytes, 1 << 20))
        _ = onebot.httpAPIBySelfID
    }
}
