// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// Turns OneBot message events into ``ConversationEvent``s.
public enum OneBotEventNormalizer {
    /// The conversation event for a `message` event, or nil for other events and for messages
    /// without a user.
    public static func conversationEvent(from event: OneBotEvent, selfID: Int64, receivedAt: Date = Date()) -> ConversationEvent? {
        guard event.isInboundMessage, let userID = event.userID, let key = event.deduplicationKey(bot: selfID) else { return nil }
        let user = String(userID)
        let scope: ConversationScope
        if event.detailType == "group" {
            // Answering a group message privately could leak the group's talk: without a group it is dropped.
            guard let groupID = event.groupID else { return nil }
            scope = .group(group: String(groupID), user: user)
        } else {
            scope = .private(user: user)
        }
        let card = event.sender?["card"]?.stringValue ?? ""
        let nickname = event.sender?["nickname"]?.stringValue ?? ""
        let role = event.sender?["role"]?.stringValue.flatMap(Sender.Role.init(rawValue:))
        return ConversationEvent(
            id: key, platform: .qq, botID: String(selfID), scope: scope,
            sender: Sender(id: user, name: card.isEmpty ? nickname : card, role: role),
            content: segments(event.message, selfID: selfID),
            platformMessageID: event.messageID.map(String.init),
            receivedAt: receivedAt)
    }

    /// Maps OneBot segments to engine segments. The @ that QQ clients put right after a reply
    /// segment (mentioning the quoted author) is dropped unless it mentions the bot.
    /// A received `record` segment's audio: `base64://` or an http(s) `file` as it is, else the
    /// implementation's file name (for `get_record`) with the `url` it gave.
    static func voice(file: String?, url: String?) -> MediaReference {
        let url = url.flatMap { $0.isEmpty ? nil : $0 }
        guard let file, !file.isEmpty else { return .url(url ?? "") }
        let lowered = file.lowercased()
        if lowered.hasPrefix("base64://") || lowered.hasPrefix("http://") || lowered.hasPrefix("https://") { return .url(file) }
        return .platformFile(id: file, url: url)
    }

    static func segments(_ segments: [OneBotSegment], selfID: Int64) -> [Segment] {
        var result = [Segment]()
        var afterLeadingReply = false
        for (index, segment) in segments.enumerated() {
            switch segment.type {
            case "text":
                let text = segment.text ?? ""
                if afterLeadingReply, text.allSatisfy(\.isWhitespace) { continue }
                afterLeadingReply = false
                result.append(.text(text))
            case "at":
                let target = segment["qq"]?.textValue ?? ""
                if afterLeadingReply, target != String(selfID) {
                    afterLeadingReply = false
                    continue
                }
                afterLeadingReply = false
                result.append(.mention(target))
            case "reply":
                if let id = segment["id"]?.textValue { result.append(.quote(id)) }
                afterLeadingReply = index == 0 || result.count == 1
            case "image":
                afterLeadingReply = false
                result.append(.image(.url(segment["url"]?.textValue ?? segment["file"]?.textValue ?? "")))
            case "record":
                afterLeadingReply = false
                result.append(.audio(Self.voice(file: segment["file"]?.textValue, url: segment["url"]?.textValue)))
            default:
                afterLeadingReply = false
                result.append(.unknown(type: segment.type, data: segment.json["data"] ?? .null))
            }
        }
        return result
    }
}
