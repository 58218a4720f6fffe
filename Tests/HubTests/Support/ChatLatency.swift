// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

/// QQ chat turns timed over a ``FakeOneBot`` against an upstream that echoes, and the comparison
/// the lane-isolation suites make: turns measured with another lane idle against turns measured
/// with it saturated, both in the same run (so a loaded machine slows both alike).
enum ChatLatency {
    /// Turns measured in each phase.
    static let turns = 30
    /// Turns start this far apart, so that a phase spans seconds of the other lane's work.
    static let pace = Duration.milliseconds(200)
    /// Turns before the first phase, not measured.
    static let warmUp = 5

    struct NoAnswer: Error, CustomStringConvertible {
        let text: String
        var description: String { "no answer to \"\(text)\" arrived in time" }
    }

    /// One chat turn, by a user of its own (no history to grow): the time from sending to the
    /// action answering it. Users are `2_000_000 + index`, message ids `1 + index`.
    static func turn(_ bot: FakeOneBot, _ index: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Duration {
        let text = "turn \(index)"
        let user = Int64(2_000_000 + index)
        let seen = bot.actions.count
        let start = ContinuousClock.now
        bot.send(OneBotFrames.privateMessage(selfID: bot.selfID, user: user, messageID: Int64(index + 1), text: text))
        let deadline = start + .seconds(10)
        while true {
            if let answer = bot.actions.dropFirst(seen).first(where: { $0["params"]?["user_id"] == .int(user) }) {
                let elapsed = ContinuousClock.now - start
                #expect(answer.messageText == "echo: \(text)", "\(answer.compactJSON)", sourceLocation: sourceLocation)
                return elapsed
            }
            guard ContinuousClock.now < deadline else { throw NoAnswer(text: text) }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// ``turns`` turns starting ``pace`` apart, numbered from `index` on (which moves past them).
    static func measure(_ bot: FakeOneBot, from index: inout Int) async throws -> [Duration] {
        var durations = [Duration]()
        for _ in 0..<turns {
            let start = ContinuousClock.now
            durations.append(try await turn(bot, index))
            index += 1
            try await Task.sleep(until: start + pace)
        }
        return durations
    }

    /// ``warmUp`` turns, unmeasured, numbered from `index` on.
    static func warm(_ bot: FakeOneBot, from index: inout Int) async throws {
        for _ in 0..<warmUp {
            _ = try await turn(bot, index)
            index += 1
        }
    }

    /// Turn latencies with a lane idle and with it saturated, and the bounds the saturated ones
    /// must keep: the median within max(1.5 × idle, idle + 10 ms), the 90th percentile within
    /// max(2 × idle, idle + 20 ms). The absolute slack covers a machine whose other work (the rest
    /// of the suite, in parallel) comes and goes between the two phases.
    struct Comparison: CustomStringConvertible {
        let idle: [Duration]
        let saturated: [Duration]

        var idleMedian: Duration { ChatLatency.percentile(idle, 0.5) }
        var saturatedMedian: Duration { ChatLatency.percentile(saturated, 0.5) }
        var idleP90: Duration { ChatLatency.percentile(idle, 0.9) }
        var saturatedP90: Duration { ChatLatency.percentile(saturated, 0.9) }
        var medianBound: Duration { max(idleMedian * 1.5, idleMedian + .milliseconds(10)) }
        var p90Bound: Duration { max(idleP90 * 2, idleP90 + .milliseconds(20)) }

        var description: String {
            let ms = ChatLatency.ms
            return "median idle \(ms(idleMedian)), saturated \(ms(saturatedMedian)) (bound \(ms(medianBound))); "
                + "p90 idle \(ms(idleP90)), saturated \(ms(saturatedP90)) (bound \(ms(p90Bound))); "
                + "max idle \(ms(idle.max() ?? .zero)), saturated \(ms(saturated.max() ?? .zero))"
        }

        /// Checks both bounds.
        func expectWithinBounds(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(saturatedMedian <= medianBound, "chat median slowed by the saturated lane: \(self)", sourceLocation: sourceLocation)
            #expect(saturatedP90 <= p90Bound, "chat p90 slowed by the saturated lane: \(self)", sourceLocation: sourceLocation)
        }
    }

    static func percentile(_ values: [Duration], _ fraction: Double) -> Duration {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }

    static func ms(_ duration: Duration) -> String {
        String(format: "%.1f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }
}
