// SPDX-License-Identifier: Apache-2.0

/// Decides whether an event is for the bot, and whether it is a command or a chat turn.
///
/// Private messages always reach the bot. Group messages do when a configured trigger matches:
/// an @ of the bot, a reply to one of the bot's messages, a prefix, or a nickname at the start.
/// The bot never answers itself.
public struct ChatPolicy: Sendable {
    /// What makes a group message address the bot.
    public enum GroupTrigger: String, Sendable, Hashable, CaseIterable {
        case at, reply, prefix, nickname
    }

    public var groupTriggers: Set<GroupTrigger>
    /// Prefixes that address the bot in groups and introduce commands (`/` by default).
    public var prefixes: [String]
    /// Names that address the bot when a message starts with one (case-insensitive).
    public var nicknames: [String]

    public init(groupTriggers: Set<GroupTrigger> = Set(GroupTrigger.allCases), prefixes: [String] = ["/"], nicknames: [String] = []) {
        self.groupTriggers = groupTriggers
        self.prefixes = prefixes.filter { !$0.isEmpty }
        self.nicknames = nicknames.filter { !$0.isEmpty }
    }

    /// The decision for `event`. `quotesBot` says whether the message quotes one the bot sent.
    public func decide(_ event: ConversationEvent, quotesBot: Bool) -> ChatDecision {
        if event.sender.id == event.botID { return .ignore(.fromSelf) }
        var mentionsBot = false
        var text = ""
        for segment in event.content {
            switch segment {
            case .text(let part): text += part
            case .mention(let user):
                if user == event.botID {
                    mentionsBot = true
                } else {
                    text += "@\(user)"
                }
            case .quote: break
            case .image: text += "[image]"
            case .audio: text += Self.voicePlaceholder
            case .unknown(let type, _): text += "[\(type)]"
            }
        }
        var body = Substring(text).trimmingSpaces
        var addressed = event.scope.group == nil
        if event.scope.group != nil {
            if groupTriggers.contains(.at), mentionsBot { addressed = true }
            if groupTriggers.contains(.reply), quotesBot { addressed = true }
        }
        if let nickname = matchingNickname(in: body) {
            if event.scope.group == nil || groupTriggers.contains(.nickname) {
                addressed = true
                body = body.dropFirst(nickname.count).drop(while: { Self.nicknameSeparators.contains($0) })
            }
        }
        if let prefix = (prefixes.isEmpty ? ["/"] : prefixes).first(where: { body.hasPrefix($0) }) {
            let rest = body.dropFirst(prefix.count)
            let prefixTriggers = event.scope.group == nil || groupTriggers.contains(.prefix)
            if addressed || prefixTriggers {
                if let command = ChatCommand.parse(String(rest)) { return .command(command) }
                if prefixTriggers, prefixes.contains(prefix) {
                    return .chat(String(rest.trimmingSpaces))
                }
            }
        }
        guard addressed else { return .ignore(.notAddressed) }
        return .chat(String(body))
    }

    private func matchingNickname(in text: Substring) -> String? {
        guard !nicknames.isEmpty else { return nil }
        // Only the start of the message can hold a nickname: lowercase no more than that.
        let longest = nicknames.map(\.count).max() ?? 0
        let lowered = text.prefix(longest).lowercased()
        return nicknames.first { lowered.hasPrefix($0.lowercased()) }
    }

    /// What a voice clip reads as in the text a policy sees (it is transcribed before the chat).
    static let voicePlaceholder = "[voice]"

    private static let nicknameSeparators: Set<Character> = [" ", ",", "，", ":", "：", "、", "!", "！", "~", "\u{3000}"]
}
