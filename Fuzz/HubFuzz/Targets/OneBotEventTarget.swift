// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation

extension FuzzTarget {
    /// A frame or HTTP POST body that carries an event, taken as the OneBot door takes it: JSON,
    /// the event, its de-duplication key, the conversation event of a message, and the heartbeat
    /// interval of a heartbeat with the watchdog's arithmetic on it.
    static let oneBotEvent = FuzzTarget(name: "onebot-event", summary: "OneBot 11 events: OneBotEvent, normalizer, heartbeat") { bytes in
        guard let value = try? JSONValue(parsing: bytes), value["post_type"] != nil,
            let event = try? OneBotEvent(json: value)
        else { return }
        let selfID = event.selfID ?? 3_847_291_056
        _ = event.deduplicationKey(bot: selfID)
        _ = event.deduplicationKey(bot: .min)
        if let conversation = OneBotEventNormalizer.conversationEvent(from: event, selfID: selfID, receivedAt: Date(timeIntervalSince1970: 0)) {
            // What the engine decides first for a message: whether it is addressed, and how.
            _ = ChatPolicy(prefixes: ["/"], nicknames: ["hubby"]).decide(conversation, quotesBot: false)
        }
        _ = CQCode.serialize(event.message)
        if let reported = event.raw["interval"]?.int64Value, let interval = OneBotHeartbeatInterval(reported: reported) {
            expect(OneBotHeartbeatInterval.range.contains(interval.milliseconds), "heartbeat interval outside its range")
            // What the watchdog computes from it (OneBotDoor.watchHeartbeats), with a one-minute grace.
            let nanoseconds = interval.milliseconds * 1_000_000
            _ = max(3 * nanoseconds, nanoseconds + 60_000_000_000)
        }
        _ = event.raw["status"]?["online"]?.boolValue
    }
}
