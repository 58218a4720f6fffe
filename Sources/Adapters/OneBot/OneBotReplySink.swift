// SPDX-License-Identifier: Apache-2.0
import Engine

/// Delivers the engine's answers to a QQ chat through whatever route the bot has now: its live
/// WebSocket (looked up at delivery time, so a bot that reconnected gets the reply on its new
/// connection), its forward HTTP API, or, after waiting for it to come back, the outbox.
///
/// QQ shows no progress, so only the terminal part of an answer is sent: the reply, a failure's
/// apology, or a notice (unless its text is empty: the user was told already). Long text is split
/// here, at the door's message limit.
struct OneBotReplySink: AnswerSink {
    let door: OneBotDoor

    var showsProgress: Bool { false }
    /// Voice goes out as `record` segments.
    var deliversAudio: Bool { true }
    /// Voice messages come in as `record` segments.
    var media: (any MediaSource)? { OneBotMediaSource(door: door) }

    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        switch part {
        case .final(let reply), .failure(let reply, _), .notice(let reply, _):
            guard !reply.text.isEmpty || reply.parts.contains(where: \.isMedia) else { return [] }
            return try await send(reply, answering: event)
        case .delta, .sentence, .cancelled:
            return []
        }
    }

    private func send(_ reply: Reply, answering event: ConversationEvent) async throws -> [String] {
        guard let selfID = Int64(event.botID) else { throw OneBotActionError(.noRoute, detail: "bot id \(event.botID) is not numeric") }
        var ids = [String]()
        for message in OneBotReplyRenderer.messages(for: reply, maxLength: door.settings.maxMessageLength) {
            var params: [String: JSONValue] = ["message": .array(message.map(\.json))]
            switch event.scope {
            case .private(let user):
                guard let user = Int64(user) else { throw OneBotActionError(.noRoute, detail: "user id \(user) is not numeric") }
                params["message_type"] = "private"
                params["user_id"] = .int(user)
            case .group(let group, _):
                guard let group = Int64(group) else { throw OneBotActionError(.noRoute, detail: "group id \(group) is not numeric") }
                params["message_type"] = "group"
                params["group_id"] = .int(group)
            }
            let carriesMedia = message.contains { $0.type == "record" || $0.type == "image" || $0.type == "video" }
            let outcome = try await door.perform(
                "send_msg", params: .object(params), selfID: selfID,
                timeout: carriesMedia ? door.settings.mediaActionTimeout : door.settings.actionTimeout, queueWhenOffline: true)
            if case .done(let response) = outcome, let id = response.messageID { ids.append(id) }
        }
        return ids
    }
}

extension ReplyPart {
    /// Voice or a picture.
    var isMedia: Bool {
        switch self {
        case .audio, .image: true
        case .text, .quote, .mention: false
        }
    }
}
