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
        var header = [OneBotSegment]()
        var messages = [[OneBotSegment]]()
        for part in reply.parts {
            switch part {
            case .quote(let id):
                header.append(OneBotSegment(type: "reply", data: [("id", .string(id))]))
            case .mention(let user):
                header.append(OneBotSegment(type: "at", data: [("qq", .string(user))]))
            case .text(let text):
                for chunk in TextSplitter.split(text, limit: max(1, maxLength)) {
                    var message = messages.isEmpty ? header : []
                    let needsSpace = message.last?.type == "at"
                    message.append(.text(needsSpace ? " " + chunk : chunk))
                    messages.append(message)
                }
            case .audio(let bytes, _):
                messages.append([OneBotSegment(type: "record", data: [("file", .string("base64://" + base64(bytes)))])])
            case .image(.url(let url)):
                messages.append([OneBotSegment(type: "image", data: [("file", .string(url))])])
            case .image(.bytes(let bytes, _)):
                messages.append([OneBotSegment(type: "image", data: [("file", .string("base64://" + base64(bytes)))])])
            }
        }
        if messages.isEmpty, header.contains(where: { $0.type == "at" }) { return [] }
        return messages.filter { !$0.isEmpty }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
