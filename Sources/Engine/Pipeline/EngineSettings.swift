// SPDX-License-Identifier: Apache-2.0

/// How the engine behaves in chat, independent of any door.
public struct EngineSettings: Sendable {
    public var policy: ChatPolicy
    public var sessionScope: SessionKey.SessionScope
    public var history: HistoryLimits
    /// The system prompt used when a session set none with `/persona`.
    public var persona: String
    /// Most messages of one session waiting for their turn (the one being answered not counted);
    /// beyond it the user gets the busy notice.
    public var sessionQueueLimit: Int
    /// De-duplication window in seconds and the number of keys kept per bot.
    public var dedupeWindow: Double
    public var dedupeCapacity: Int
    /// Longest persona a user may set, in Unicode scalars.
    public var maxPersonaLength: Int
    /// Messages to the bot allowed per user (across bots and groups) and per group; nil: no limit.
    public var rateLimitPerUser: Rate?
    public var rateLimitPerGroup: Rate?
    /// Per-user limits for the users of one platform (the web chat's per-client limit), replacing
    /// ``rateLimitPerUser`` there; a nil value turns the limit off for that platform.
    public var rateLimitPerUserByPlatform: [Platform: Rate?]
    /// Seconds: how old an accepted, unanswered event may be for a restart to still answer it.
    public var replayWindow: Double

    public init(
        policy: ChatPolicy = ChatPolicy(), sessionScope: SessionKey.SessionScope = .perUser, history: HistoryLimits = HistoryLimits(),
        persona: String = "You are a helpful assistant.", sessionQueueLimit: Int = 8, dedupeWindow: Double = 300,
        dedupeCapacity: Int = 4096, maxPersonaLength: Int = 2000, rateLimitPerUser: Rate? = nil, rateLimitPerGroup: Rate? = nil,
        rateLimitPerUserByPlatform: [Platform: Rate?] = [:], replayWindow: Double = 600
    ) {
        self.replayWindow = replayWindow
        self.rateLimitPerUserByPlatform = rateLimitPerUserByPlatform
        self.policy = policy
        self.sessionScope = sessionScope
        self.history = history
        self.persona = persona
        self.sessionQueueLimit = sessionQueueLimit
        self.dedupeWindow = dedupeWindow
        self.dedupeCapacity = dedupeCapacity
        self.maxPersonaLength = maxPersonaLength
        self.rateLimitPerUser = rateLimitPerUser
        self.rateLimitPerGroup = rateLimitPerGroup
    }

    /// The per-user limit that applies on `platform`.
    public func rateLimitPerUser(on platform: Platform) -> Rate? {
        if let override = rateLimitPerUserByPlatform[platform] { return override }
        return rateLimitPerUser
    }
}
