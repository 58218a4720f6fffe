// SPDX-License-Identifier: Apache-2.0

/// `chat`: when the bot answers in groups, how sessions are keyed, history limits, persona, rate limits.
///
/// ```yaml
/// chat:
///   group_trigger: [at, reply, prefix, nickname]
///   prefixes: ["/"]
///   nicknames: []
///   session_scope: per_user                            # or per_group
///   history: { max_turns: 20, max_tokens: 4000, max_bytes: 65536 }
///   persona: "You are a helpful assistant."
///   rate_limit: { per_user: "30/60s", per_group: "120/60s" }
/// ```
struct ChatSettings: ConfigurationSection {
    /// What makes a group message addressed to the bot.
    enum GroupTrigger: String, Sendable, Codable, CaseIterable, ConfigurationScalar {
        /// An @ of the bot.
        case at
        /// A reply to one of the bot's messages.
        case reply
        /// A configured prefix (``ChatSettings/prefixes``).
        case prefix
        /// A configured nickname (``ChatSettings/nicknames``).
        case nickname
    }

    /// How group conversations are split into sessions.
    enum SessionScope: String, Sendable, Codable, CaseIterable, ConfigurationScalar {
        /// One session per user per group.
        case perUser = "per_user"
        /// One shared session per group.
        case perGroup = "per_group"
    }

    /// `chat.history`: how much conversation is kept and sent to the model.
    struct HistoryLimits: ConfigurationSection {
        /// Turns (a user message and its reply) kept. `HUB_CHAT_HISTORY_MAX_TURNS`.
        var maxTurns = 20
        /// Estimated tokens of history sent per request. `HUB_CHAT_HISTORY_MAX_TOKENS`.
        var maxTokens = 4000
        /// Bytes of history kept per session. `HUB_CHAT_HISTORY_MAX_BYTES`.
        var maxBytes = 65536

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxTurns = "max_turns"
            case maxTokens = "max_tokens"
            case maxBytes = "max_bytes"
        }
    }

    /// A rate: at most ``count`` events per ``seconds``. Written `"30/60s"`; the period may use `s`, `m` or
    /// `h` and may be left out before the unit (`"10/m"`); without a unit it is seconds (`"30/60"`).
    /// `"off"` (or `"none"`, `"unlimited"`) turns the limit off.
    struct RateLimit: Sendable, Hashable, Codable, CustomStringConvertible, ConfigurationScalar {
        var count: Int
        var seconds: Double

        init(count: Int, seconds: Double) {
            self.count = count
            self.seconds = seconds
        }

        static var expectation: String { "a rate such as \"30/60s\" (count/period, period unit s, m or h) or \"off\"" }

        /// No limit.
        static let off = RateLimit(count: 0, seconds: 0)

        var isOff: Bool { count == 0 }

        init?(configurationText text: String) {
            if ["off", "none", "unlimited"].contains(text.trimmedForConfiguration.lowercased()) {
                self = .off
                return
            }
            let parts = text.trimmedForConfiguration.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let count = Int(parts[0].trimmedForConfiguration), (1...1_000_000_000).contains(count) else { return nil }
            var period = parts[1].trimmedForConfiguration.lowercased()
            var unit = 1.0
            if let last = period.last, last.isLetter {
                switch last {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                default: return nil
                }
                period.removeLast()
                if period.isEmpty { period = "1" }
            }
            // At most a year: the period becomes milliseconds in an Int64 (1e300 would trap).
            guard let amount = Double(period), amount.isFinite, amount > 0, amount * unit <= ConfigurationValidator.largestSeconds else {
                return nil
            }
            self.init(count: count, seconds: amount * unit)
        }

        /// `30/60s`, or `off`
        var description: String {
            if isOff { return "off" }
            let period = seconds.rounded() == seconds && seconds < 1e15 ? String(Int(seconds)) : String(seconds)
            return "\(count)/\(period)s"
        }

        init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let rate = RateLimit(configurationText: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected \(Self.expectation)"))
            }
            self = rate
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// `chat.rate_limit`
    struct RateLimits: ConfigurationSection {
        /// Per user across the hub. `HUB_CHAT_RATE_LIMIT_PER_USER`.
        var perUser = RateLimit(count: 30, seconds: 60)
        /// Per group. `HUB_CHAT_RATE_LIMIT_PER_GROUP`.
        var perGroup = RateLimit(count: 120, seconds: 60)

        enum CodingKeys: String, CodingKey, CaseIterable {
            case perUser = "per_user"
            case perGroup = "per_group"
        }
    }

    var groupTrigger: [GroupTrigger] = GroupTrigger.allCases
    /// Command and trigger prefixes.
    var prefixes = ["/"]
    /// Names that address the bot in a group.
    var nicknames: [String] = []
    /// `HUB_CHAT_SESSION_SCOPE`.
    var sessionScope = SessionScope.perUser
    var history = HistoryLimits()
    /// The system prompt of new sessions. `HUB_CHAT_PERSONA`.
    var persona = "You are a helpful assistant."
    var rateLimit = RateLimits()
    /// Longest message a chat door sends, in Unicode scalars; longer answers are split into
    /// several (the QQ door splits at the smaller of this and `onebot.max_message_length`).
    /// `HUB_CHAT_MAX_REPLY_LENGTH`.
    var maxReplyLength = 3000
    /// Most messages of one conversation waiting for their answer (the one being answered not
    /// counted); more get the busy notice. `HUB_CHAT_SESSION_QUEUE`.
    var sessionQueue = 8
    /// Seconds an inbound message id is remembered, so a message delivered again (a bot that
    /// reconnects and resends, a client that retries) is answered once. `HUB_CHAT_DEDUPE_WINDOW`.
    var dedupeWindow = 300.0
    /// Most message ids remembered per bot. `HUB_CHAT_DEDUPE_CAPACITY`.
    var dedupeCapacity = 4096

    enum CodingKeys: String, CodingKey, CaseIterable {
        case groupTrigger = "group_trigger"
        case prefixes
        case nicknames
        case sessionScope = "session_scope"
        case history
        case persona
        case rateLimit = "rate_limit"
        case maxReplyLength = "max_reply_length"
        case sessionQueue = "session_queue"
        case dedupeWindow = "dedupe_window"
        case dedupeCapacity = "dedupe_capacity"
    }
}

extension ChatSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        groupTrigger = try container.decode(.groupTrigger, default: defaults.groupTrigger)
        prefixes = try container.decode(.prefixes, default: defaults.prefixes)
        nicknames = try container.decode(.nicknames, default: defaults.nicknames)
        sessionScope = try container.decode(.sessionScope, default: defaults.sessionScope)
        history = try container.decode(.history, default: defaults.history)
        persona = try container.decode(.persona, default: defaults.persona)
        rateLimit = try container.decode(.rateLimit, default: defaults.rateLimit)
        maxReplyLength = try container.decode(.maxReplyLength, default: defaults.maxReplyLength)
        sessionQueue = try container.decode(.sessionQueue, default: defaults.sessionQueue)
        dedupeWindow = try container.decode(.dedupeWindow, default: defaults.dedupeWindow)
        dedupeCapacity = try container.decode(.dedupeCapacity, default: defaults.dedupeCapacity)
    }

    func validate(into validator: inout ConfigurationValidator) {
        for (index, prefix) in prefixes.enumerated() {
            validator.nonEmpty(prefix, "chat.prefixes[\(index)]")
        }
        for (index, nickname) in nicknames.enumerated() {
            validator.nonEmpty(nickname, "chat.nicknames[\(index)]")
        }
        validator.positive(history.maxTurns, "chat.history.max_turns")
        validator.positive(history.maxTokens, "chat.history.max_tokens")
        validator.positive(history.maxBytes, "chat.history.max_bytes")
        validator.positive(maxReplyLength, "chat.max_reply_length")
        validator.positive(sessionQueue, "chat.session_queue")
        validator.positive(dedupeWindow, "chat.dedupe_window")
        validator.positive(dedupeCapacity, "chat.dedupe_capacity")
    }
}

extension ChatSettings.HistoryLimits {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        maxTurns = try container.decode(.maxTurns, default: defaults.maxTurns)
        maxTokens = try container.decode(.maxTokens, default: defaults.maxTokens)
        maxBytes = try container.decode(.maxBytes, default: defaults.maxBytes)
    }
}

extension ChatSettings.RateLimits {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        perUser = try container.decode(.perUser, default: defaults.perUser)
        perGroup = try container.decode(.perGroup, default: defaults.perGroup)
    }
}
