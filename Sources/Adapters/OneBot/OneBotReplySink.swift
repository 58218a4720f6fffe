// SPDX-License-Identifier: Apache-2.0
import Engine

/// Delivers engine replies to a QQ chat through whatever route the bot has now: its live
/// WebSocket (looked up at delivery time, so a bot that reconnected gets the reply on its new
/// connection), its forward HTTP API, or, after waiting for it to come back, the outbox.
struct OneBotReplySink: ReplySink {
    let door: OneBotDoor

    func deliver(_ reply: Reply, answering event: ConversationEvent) async throws -> [String] {
        guard let selfID = Int64(event.botID) else { throw OneBotActionError(.noRoute, detail: "bot id \(event.botID) is not numeric") }
        var ids = [String]()
        for message in OneBotReplyRenderer.messages(for: reply, maxLength: door.settings.maxMessageLength) {
            var params: [String: JSONValue] = ["message": .array(message.map(\.json))]
            switch event.scope {
            case .private(let user):
                params["message_type"] = "private"
                params["user_id"] = .int(Int64(user) ?? 0)
            case .group(let group, _):
                params["message_type"] = "group"
                params["group_id"] = .int(Int64(group) ?? 0)
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
