// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Testing

@testable import Adapters

private func segment(_ type: String, _ data: KeyValuePairs<String, JSONValue> = [:]) -> OneBotSegment {
    OneBotSegment(type: type, data: data.map { ($0.key, $0.value) })
}

/// The text of every `text` segment of `message`, joined.
private func text(of message: [OneBotSegment]) -> String {
    message.compactMap(\.text).joined()
}

@Suite struct OneBotReplyRendererTests {
    // MARK: Text is text

    @Test func cqCodeInModelTextIsSentAsLiteralText() {
        let reply = Reply.text("[CQ:at,qq=all] everyone look [CQ:face,id=1]&#91;")
        let messages = OneBotReplyRenderer.messages(for: reply, maxLength: 3000)
        #expect(messages == [[.text("[CQ:at,qq=all] everyone look [CQ:face,id=1]&#91;")]])
        #expect(messages.joined().allSatisfy { $0.type == "text" })
        // On the wire it is one text segment holding the characters.
        #expect(
            JSONValue.array(messages[0].map(\.json)).compactJSON
                == #"[{"data":{"text":"[CQ:at,qq=all] everyone look [CQ:face,id=1]&#91;"},"type":"text"}]"#)
    }

    @Test func plainTextIsOneMessage() {
        #expect(OneBotReplyRenderer.messages(for: .text("pong"), maxLength: 3000) == [[.text("pong")]])
    }

    // MARK: Quote and mention

    @Test func quoteAndMentionLeadTheMessageWithASpaceAfterTheMention() {
        let reply = Reply(parts: [.quote("-1834013271"), .mention("1357924680"), .text("hello")])
        #expect(
            OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [
                [segment("reply", ["id": "-1834013271"]), segment("at", ["qq": "1357924680"]), .text(" hello")]
            ])
    }

    @Test func quoteAloneNeedsNoSpace() {
        let reply = Reply(parts: [.quote("55012"), .text("hello")])
        #expect(OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [[segment("reply", ["id": "55012"]), .text("hello")]])
    }

    @Test func quoteAndMentionGoOnTheFirstMessageOnly() {
        let reply = Reply(parts: [.quote("9"), .mention("1357924680"), .text("first part"), .text("second part")])
        #expect(
            OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [
                [segment("reply", ["id": "9"]), segment("at", ["qq": "1357924680"]), .text(" first part")],
                [.text("second part")],
            ])
    }

    @Test func quoteAndMentionGoOnTheFirstChunkOfASplitText() {
        let reply = Reply(parts: [.quote("9"), .mention("1357924680"), .text(String(repeating: "x", count: 25))])
        let messages = OneBotReplyRenderer.messages(for: reply, maxLength: 10)
        #expect(messages.count >= 3)
        #expect(messages.first?.prefix(2).map(\.type) == ["reply", "at"])
        #expect(messages.first?.last?.text?.hasPrefix(" ") == true)
        for message in messages.dropFirst() {
            #expect(message.allSatisfy { $0.type == "text" })
        }
        #expect(messages.map(text(of:)).joined() == " " + String(repeating: "x", count: 25))
    }

    /// ONEBOT11.md §6: no message carries more than the configured number of scalars of text, the space
    /// after the @ included.
    @Test func textAfterAMentionStaysWithinMaxLength() {
        let reply = Reply(parts: [.mention("1357924680"), .text(String(repeating: "x", count: 25))])
        let messages = OneBotReplyRenderer.messages(for: reply, maxLength: 10)
        for message in messages {
            #expect(text(of: message).unicodeScalars.count <= 10, "\(message)")
        }
    }

    /// The leading quote and mention belong on the first message (`Reply`'s contract), also when that
    /// message is a picture.
    @Test func quoteAndMentionLeadAPictureOnlyReply() {
        let reply = Reply(parts: [.quote("9"), .mention("1357924680"), .image(.url("https://img.example/cat.png"))])
        #expect(
            OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [
                [segment("reply", ["id": "9"]), segment("at", ["qq": "1357924680"]), segment("image", ["file": "https://img.example/cat.png"])]
            ])
    }

    // MARK: Splitting

    @Test func longTextIsSplitIntoChunksOfAtMostMaxLengthScalars() {
        let original = String(repeating: "abcdefghij", count: 10) + "tail"
        let messages = OneBotReplyRenderer.messages(for: .text(original), maxLength: 30)
        #expect(messages.count == 4)
        for message in messages {
            #expect(message.count == 1)
            #expect((message.first?.text?.unicodeScalars.count ?? 0) <= 30)
        }
        #expect(messages.map(text(of:)).joined() == original)
    }

    @Test func lengthCountsUnicodeScalarsNotBytesAndNeverSplitsAGrapheme() {
        // 12 CJK scalars (3 UTF-8 bytes each) and 4 skin-toned thumbs (2 scalars, 1 grapheme each).
        let original = String(repeating: "字", count: 12) + String(repeating: "👍🏽", count: 4)
        let messages = OneBotReplyRenderer.messages(for: .text(original), maxLength: 5)
        let chunks = messages.map(text(of:))
        #expect(chunks.allSatisfy { $0.unicodeScalars.count <= 5 })
        #expect(chunks.joined() == original)
        #expect(chunks.joined().unicodeScalars.elementsEqual(original.unicodeScalars))
        #expect(chunks.allSatisfy { !$0.unicodeScalars.starts(with: ["\u{1F3FD}"]) })
        #expect(chunks.first?.unicodeScalars.count == 5)
    }

    @Test func textWithinMaxLengthIsNotSplit() {
        let original = String(repeating: "y", count: 30)
        #expect(OneBotReplyRenderer.messages(for: .text(original), maxLength: 30) == [[.text(original)]])
    }

    // MARK: Media

    @Test func audioBytesBecomeABase64Record() {
        let reply = Reply(parts: [.audio(bytes: [0x49, 0x44, 0x33, 0x04, 0xFF], format: "mp3")])
        #expect(OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [[segment("record", ["file": "base64://SUQzBP8="])]])
    }

    @Test func imageBytesBecomeABase64Image() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let reply = Reply(parts: [.image(.bytes(png, format: "png"))])
        let messages = OneBotReplyRenderer.messages(for: reply, maxLength: 3000)
        #expect(messages == [[segment("image", ["file": "base64://iVBORw0KGgo="])]])
        let file = messages.first?.first?["file"]?.stringValue ?? ""
        #expect(Data(base64Encoded: String(file.dropFirst("base64://".count))) == Data(png))
    }

    @Test func imageURLIsSentAsItsFile() {
        let reply = Reply(parts: [.image(.url("https://img.example/cat.png"))])
        #expect(
            OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [[segment("image", ["file": "https://img.example/cat.png"])]])
    }

    @Test func mediaGoesInItsOwnMessageAfterTheText() {
        let reply = Reply(parts: [.text("here you go"), .audio(bytes: [1, 2, 3], format: "wav")])
        #expect(
            OneBotReplyRenderer.messages(for: reply, maxLength: 3000) == [
                [.text("here you go")], [segment("record", ["file": "base64://AQID"])],
            ])
    }

    // MARK: Nothing to send

    @Test func emptyReplyGivesNoMessages() {
        #expect(OneBotReplyRenderer.messages(for: Reply(parts: []), maxLength: 3000).isEmpty)
        #expect(OneBotReplyRenderer.messages(for: .text(""), maxLength: 3000).isEmpty)
    }

    @Test func quoteAndMentionAloneGiveNoMessages() {
        #expect(OneBotReplyRenderer.messages(for: Reply(parts: [.quote("1"), .mention("2")]), maxLength: 3000).isEmpty)
        #expect(OneBotReplyRenderer.messages(for: Reply(parts: [.quote("1")]), maxLength: 3000).isEmpty)
        #expect(OneBotReplyRenderer.messages(for: Reply(parts: [.mention("2"), .text("")]), maxLength: 3000).isEmpty)
    }
}
