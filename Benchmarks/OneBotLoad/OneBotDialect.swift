// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOHTTP1

/// A OneBot 11 implementation on reverse WebSocket (§1.4): it pushes private message events
/// for its share of the users and answers every action; a `send_private_msg` / `send_msg` for a
/// user is the reply to that user's oldest event.
struct OneBotDialect: ClientDialect {
    /// Index of this bot among all bots (0-based); users `g` with `g % bots == index` belong to it.
    let index: Int
    /// The QQ number announced in `X-Self-ID`.
    let selfID: Int64
    let localUserCount: Int
    let botCount: Int
    let userIDBase: Int64
    private var replyMessageID: Int32

    var name: String { "bot \(selfID)" }
    var awaitsGreeting: Bool { false }

    init(index: Int, configuration: LoadConfiguration) {
        self.index = index
        self.botCount = configuration.bots
        self.selfID = configuration.selfIDBase + Int64(index)
        self.userIDBase = configuration.userIDBase
        self.localUserCount = (configuration.users - index + configuration.bots - 1) / configuration.bots
        self.replyMessageID = Int32(truncatingIfNeeded: index) << 24
    }

    func path(base: String) -> String { base }

    func handshakeHeaders(token: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "X-Self-ID", value: String(selfID))
        headers.add(name: "X-Client-Role", value: "Universal")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return headers
    }

    func openingFrame() -> String? {
        OneBotFrames.lifecycleConnect(time: Self.unixTime(), selfID: selfID)
    }

    func heartbeatFrame(intervalMilliseconds: Int) -> String? {
        OneBotFrames.heartbeat(time: Self.unixTime(), selfID: selfID, intervalMilliseconds: intervalMilliseconds)
    }

    /// The private message event with bot-local sequence `sequence` from local user `user`.
    func eventFrame(user: Int, sequence: Int) -> String {
        // Interleave bots so message ids are unique over the whole run.
        let messageID = Int32(truncatingIfNeeded: sequence &* botCount &+ index &+ 1)
        return OneBotFrames.privateMessage(
            time: Self.unixTime(), selfID: selfID, messageID: messageID,
            userID: userIDBase + Int64(user * botCount + index), sequence: sequence
        )
    }

    /// Answers an action frame at once; a message action is the reply to its user's oldest event.
    /// Frames without `action` are ignored.
    mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> ServerMessage {
        guard let request = ActionRequest.parse(bytes) else { return ServerMessage(.ignored) }
        replyMessageID &+= 1
        let response = OneBotFrames.response(to: request, selfID: selfID, messageID: replyMessageID)
        guard request.isMessageReply else { return ServerMessage(response: response, .other) }
        guard let user = request.userID.flatMap(localUser(for:)) else { return ServerMessage(response: response, .unmatched) }
        return ServerMessage(response: response, .reply(user: user, sequence: nil))
    }

    /// The local index of the user with QQ number `userID`, if it belongs to this bot.
    private func localUser(for userID: Int64) -> Int? {
        let global = userID - userIDBase
        guard global >= 0, global % Int64(botCount) == Int64(index) else { return nil }
        let local = Int(global / Int64(botCount))
        return local < localUserCount ? local : nil
    }

    /// Wall-clock Unix time in seconds, for the events' `time` field.
    static func unixTime() -> Int {
        Int(time(nil))
    }
}
