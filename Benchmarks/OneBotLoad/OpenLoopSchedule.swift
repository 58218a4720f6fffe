// SPDX-License-Identifier: Apache-2.0

/// One bot's share of an open-loop schedule.
///
/// Globally, event `i` is due at `start + i / rate` and comes from user `i % users`, and user
/// `g` belongs to bot `g % bots`. Each bot walks only its own indices and sends them from
/// timers on its own event loop, so no central sender becomes the bottleneck and the send
/// times stay accurate.
struct OpenLoopSchedule: Sendable {
    /// Monotonic ns at which global event 0 is due.
    var start: UInt64
    /// Nanoseconds between consecutive global events.
    var interval: Double
    /// Total events over all bots.
    var total: Int
    /// Total users over all bots.
    var users: Int
    /// Number of bots.
    var bots: Int
    /// This bot's index.
    var bot: Int
    /// The next global event index that belongs to this bot (`>= total` when done).
    private(set) var next: Int

    init(start: UInt64, rate: Double, total: Int, users: Int, bots: Int, bot: Int) {
        self.start = start
        self.interval = 1e9 / rate
        self.total = total
        self.users = users
        self.bots = bots
        self.bot = bot
        self.next = 0
        self.next = Self.firstIndex(atOrAfter: 0, users: users, bots: bots, bot: bot)
    }

    /// Whether every event of this bot has been sent.
    var isDone: Bool { next >= total }

    /// When event `next` is due, monotonic ns.
    var nextDue: UInt64 { start + UInt64(Double(next) * interval) }

    /// This bot's local user for event `next`.
    var nextLocalUser: Int { (next % users) / bots }

    /// Moves to this bot's following event.
    mutating func advance() {
        next = Self.firstIndex(atOrAfter: next + 1, users: users, bots: bots, bot: bot)
    }

    /// The smallest global index `>= index` whose user belongs to `bot`.
    private static func firstIndex(atOrAfter index: Int, users: Int, bots: Int, bot: Int) -> Int {
        let user = index % users
        let blockStart = index - user
        let candidate = user + (bot - user % bots + bots) % bots
        return candidate < users ? blockStart + candidate : blockStart + users + bot
    }
}
