// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// Renders a ``Reply`` as OneBot messages (segment arrays), one per text part.
///
/// Text always goes out as `text` segments, never as CQ codes, so a model that writes
/// `[CQ:at,qq=all]` sends those characters, not a mention. A leading quote and mention are put
/// on the first message only.
public enum OneBotReplyRenderer {
    public static func messages(for reply: Reply, maxLength: Int) -> [[OneBotSegment]] {
        let limit = max(1, maxLength)
        // The quote and @ wait for the first message that can carry them: text or a picture.
        // A voice clip must travel alone in QQ, so it never takes them.
        var header = [OneBotSegment]()
        var messages = [[OneBotSegment]]()
        func takeHeader() -> [OneBotSegment] {
            defer { header.removeAll() }
            return header
        }
        for part in reply.parts {
            switch part {
            case .quote(let id):
                header.append(OneBotSegment(type: "reply", data: [("id", .string(id))]))
            case .mention(let user):
                header.append(OneBotSegment(type: "at", data: [("qq", .string(user))]))
            case .text(let text):
                var chunks = TextSplitter.split(text, limit: limit)
                if header.last?.type == "at", let first = chunks.first, first.unicodeScalars.count + 1 > limit {
                    // The space after the @ counts against the limit too.
                    chunks.replaceSubrange(0..<1, with: TextSplitter.split(first, limit: max(1, limit - 1)))
                }
                for chunk in chunks {
                    var message = takeHeader()
                    message.append(.text(message.last?.type == "at" ? " " + chunk : chunk))
                    messages.append(message)
                }
            case .audio(let bytes, _):
                messages.append([OneBotSegment(type: "record", data: [("file", .string("base64://" + base64(bytes)))])])
            case .image(let media):
                let file: String
                switch media {
                case .url(let url): file = url
                case .bytes(let bytes, _): file = "base64://" + base64(bytes)
                case .platformFile(let id, let url): file = url ?? id
                case .hosted(_, let bytes, _): file = "base64://" + base64(bytes)
                }
                messages.append(takeHeader() + [OneBotSegment(type: "image", data: [("file", .string(file))])])
            }
        }
        return messages.filter { !$0.isEmpty }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
