// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// The platform ids of messages the bot sent recently, so that a reply to one of them counts as
/// addressing the bot. Bounded: the oldest ids are forgotten first.
public final class SentMessageLedger: Sendable {
    private struct State {
        var order = CircularBuffer<String>()
        var ids = Set<String>()
    }

    private let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 65_536) {
        self.capacity = max(1, capacity)
    }

    private static func key(_ platform: Platform, _ bot: String, _ id: String) -> String {
        "\(platform.rawValue):\(bot):\(id)"
    }

    /// Remembers that `bot` sent message `id`.
    public func record(_ id: String, platform: Platform, bot: String) {
        let key = Self.key(platform, bot, id)
        state.withLock { state in
            guard state.ids.insert(key).inserted else { return }
            state.order.append(key)
            if state.order.count > capacity {
                state.ids.remove(state.order.removeFirst())
            }
        }
    }

    /// Whether `bot` sent message `id`.
    public func contains(_ id: String, platform: Platform, bot: String) -> Bool {
        let key = Self.key(platform, bot, id)
        return state.withLock { $0.ids.contains(key) }
    }
}
