// SPDX-License-Identifier: Apache-2.0
import Foundation

/// How an event is kept in the inbox (`inbox.payload`): a compact JSON object written with the
/// hub's own JSON writer.
///
/// Hand-written rather than `Codable` through `JSONEncoder` for speed: every accepted event is
/// encoded on the hot path, and `JSONEncoder` took 2.9 % of the hub's CPU under the closed-loop
/// QQ benchmark (about 8 µs per event); this writer is a fraction of that (figures in README).
extension ConversationEvent {
    /// The event as the inbox keeps it.
    var journal: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "platform": .string(platform.rawValue), "bot": .string(botID), "user": .string(scope.user),
            "sender": .string(sender.id), "at": .double(receivedAt.timeIntervalSinceReferenceDate),
            "content": .array(content.map(\.journal)),
        ]
        if let group = scope.group { object["group"] = .string(group) }
        if !sender.name.isEmpty { object["name"] = .string(sender.name) }
        if let role = sender.role { object["role"] = .string(role.rawValue) }
        if let platformMessageID { object["message"] = .string(platformMessageID) }
        return .object(object)
    }

    /// The event kept as ``journal``; nil when it is not one.
    init?(journal value: JSONValue) {
        guard let id = value["id"]?.stringValue, let platform = value["platform"]?.stringValue.flatMap(Platform.init(rawValue:)),
            let bot = value["bot"]?.stringValue, let user = value["user"]?.stringValue, let senderID = value["sender"]?.stringValue,
            let at = value["at"]?.doubleValue, let content = value["content"]?.arrayValue
        else { return nil }
        var segments = [Segment]()
        for item in content {
            guard let segment = Segment(journal: item) else { return nil }
            segments.append(segment)
        }
        self.init(
            id: id, platform: platform, botID: bot,
            scope: value["group"]?.stringValue.map { .group(group: $0, user: user) } ?? .private(user: user),
            sender: Sender(
                id: senderID, name: value["name"]?.stringValue ?? "", role: value["role"]?.stringValue.flatMap(Sender.Role.init(rawValue:))),
            content: segments, platformMessageID: value["message"]?.stringValue, receivedAt: Date(timeIntervalSinceReferenceDate: at))
    }
}

extension Segment {
    var journal: JSONValue {
        switch self {
        case .text(let text): ["t": "text", "v": .string(text)]
        case .mention(let user): ["t": "mention", "v": .string(user)]
        case .quote(let id): ["t": "quote", "v": .string(id)]
        case .image(let media): ["t": "image", "v": media.journal]
        case .audio(let media): ["t": "audio", "v": media.journal]
        case .unknown(let type, let data): ["t": "unknown", "type": .string(type), "v": data]
        }
    }

    init?(journal value: JSONValue) {
        guard let kind = value["t"]?.stringValue, let body = value["v"] else { return nil }
        switch kind {
        case "text": guard let text = body.stringValue else { return nil }; self = .text(text)
        case "mention": guard let user = body.stringValue else { return nil }; self = .mention(user)
        case "quote": guard let id = body.stringValue else { return nil }; self = .quote(id)
        case "image": guard let media = MediaReference(journal: body) else { return nil }; self = .image(media)
        case "audio": guard let media = MediaReference(journal: body) else { return nil }; self = .audio(media)
        case "unknown": guard let type = value["type"]?.stringValue else { return nil }; self = .unknown(type: type, data: body)
        default: return nil
        }
    }
}

extension MediaReference {
    var journal: JSONValue {
        switch self {
        case .url(let url): ["url": .string(url)]
        case .bytes(let bytes, let format): ["base64": .string(Data(bytes).base64EncodedString()), "format": .string(format)]
        case .platformFile(let id, let url): ["file": .string(id), "file_url": url.map(JSONValue.string) ?? .null]
        // Inbound events never carry the hub's own files; the path is enough to keep.
        case .hosted(let path, _, _): ["url": .string(path)]
        }
    }

    init?(journal value: JSONValue) {
        if let url = value["url"]?.stringValue {
            self = .url(url)
        } else if let id = value["file"]?.stringValue {
            self = .platformFile(id: id, url: value["file_url"]?.stringValue)
        } else if let encoded = value["base64"]?.stringValue, let bytes = Data(base64Encoded: encoded), let format = value["format"]?.stringValue {
            self = .bytes(Array(bytes), format: format)
        } else {
            return nil
        }
    }
}
