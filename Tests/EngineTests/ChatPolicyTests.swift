// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct ChatPolicyTests {
    static let bot = "3847291056"
    static let user = "1049382716"
    static let group = "736251904"

    private func privateEvent(_ content: [Segment], from sender: String = user) -> ConversationEvent {
        ConversationEvent(
            id: "qq:\(Self.bot):private:\(sender):1", platform: .qq, botID: Self.bot, scope: .private(user: sender),
            sender: Sender(id: sender, name: "Bob"), content: content)
    }

    private func groupEvent(_ content: [Segment], from sender: String = user) -> ConversationEvent {
        ConversationEvent(
            id: "qq:\(Self.bot):group:\(Self.group):\(sender):1", platform: .qq, botID: Self.bot,
            scope: .group(group: Self.group, user: sender), sender: Sender(id: sender, name: "Bob"), content: content)
    }

    private func triggers(_ triggers: ChatPolicy.GroupTrigger...) -> ChatPolicy {
        ChatPolicy(groupTriggers: Set(triggers), prefixes: ["/"], nicknames: ["Hub", "小助手"])
    }

    private var all: ChatPolicy { ChatPolicy(prefixes: ["/"], nicknames: ["Hub", "小助手"]) }

    // MARK: Private chats

    @Test func privateMessagesAlwaysReachTheBot() {
        let none = triggers()
        #expect(none.decide(privateEvent([.text("hello")]), quotesBot: false) == .chat("hello"))
        #expect(none.decide(privateEvent([.text("  spaced out \n")]), quotesBot: false) == .chat("spaced out"))
        #expect(none.decide(privateEvent([.text("\r\nwindows line ends\r\n")]), quotesBot: false) == .chat("windows line ends"))
        #expect(none.decide(privateEvent([.text("/help")]), quotesBot: false) == .command(.help))
        #expect(none.decide(privateEvent([.text("/foo bar")]), quotesBot: false) == .chat("foo bar"))
        #expect(none.decide(privateEvent([]), quotesBot: false) == .chat(""))
    }

    @Test func privateMessageWithOnlyAnImage() {
        #expect(all.decide(privateEvent([.image(.url("https://example.com/a.png"))]), quotesBot: false) == .chat("[image]"))
        #expect(all.decide(privateEvent([.audio(.url("a.amr"))]), quotesBot: false) == .chat("[voice]"))
        #expect(all.decide(privateEvent([.unknown(type: "face", data: ["id": "1"])]), quotesBot: false) == .chat("[face]"))
    }

    @Test func theBotNeverAnswersItself() {
        #expect(all.decide(privateEvent([.text("hello")], from: Self.bot), quotesBot: false) == .ignore(.fromSelf))
        #expect(all.decide(groupEvent([.mention(Self.bot), .text("/help")], from: Self.bot), quotesBot: true) == .ignore(.fromSelf))
    }

    // MARK: Group triggers

    @Test func groupMessageThatDoesNotAddressTheBotIsIgnored() {
        #expect(all.decide(groupEvent([.text("just chatting")]), quotesBot: false) == .ignore(.notAddressed))
        #expect(all.decide(groupEvent([.mention("999"), .text(" hi")]), quotesBot: false) == .ignore(.notAddressed))
        #expect(all.decide(groupEvent([.text("say Hub")]), quotesBot: false) == .ignore(.notAddressed))
    }

    @Test func atTheBot() {
        let event = groupEvent([.mention(Self.bot), .text(" what's up?")])
        #expect(all.decide(event, quotesBot: false) == .chat("what's up?"))
        #expect(triggers(.at).decide(event, quotesBot: false) == .chat("what's up?"))
        #expect(triggers(.reply, .prefix, .nickname).decide(event, quotesBot: false) == .ignore(.notAddressed))
        // The mention may come anywhere in the message.
        #expect(all.decide(groupEvent([.text("hey "), .mention(Self.bot)]), quotesBot: false) == .chat("hey"))
        #expect(all.decide(groupEvent([.mention(Self.bot)]), quotesBot: false) == .chat(""))
    }

    @Test func replyToTheBot() {
        let event = groupEvent([.quote("-1834013271"), .text("and then?")])
        #expect(all.decide(event, quotesBot: true) == .chat("and then?"))
        #expect(triggers(.reply).decide(event, quotesBot: true) == .chat("and then?"))
        #expect(all.decide(event, quotesBot: false) == .ignore(.notAddressed))
        #expect(triggers(.at, .prefix, .nickname).decide(event, quotesBot: true) == .ignore(.notAddressed))
    }

    @Test func prefix() {
        let event = groupEvent([.text("/tell me a joke")])
        #expect(all.decide(event, quotesBot: false) == .chat("tell me a joke"))
        #expect(triggers(.prefix).decide(event, quotesBot: false) == .chat("tell me a joke"))
        #expect(triggers(.at, .reply, .nickname).decide(event, quotesBot: false) == .ignore(.notAddressed))
        let custom = ChatPolicy(prefixes: ["!", "bot "])
        #expect(custom.decide(groupEvent([.text("!hello")]), quotesBot: false) == .chat("hello"))
        #expect(custom.decide(groupEvent([.text("bot  hello")]), quotesBot: false) == .chat("hello"))
        #expect(custom.decide(groupEvent([.text("!reset")]), quotesBot: false) == .command(.reset))
        #expect(custom.decide(groupEvent([.text("/hello")]), quotesBot: false) == .ignore(.notAddressed))
    }

    @Test func nickname() {
        for text in ["Hub, how are you", "hub how are you", "HUB：how are you", "Hub，how are you", "Hub！ how are you"] {
            #expect(all.decide(groupEvent([.text(text)]), quotesBot: false) == .chat("how are you"), "\(text)")
        }
        #expect(all.decide(groupEvent([.text("小助手，今天天气怎么样")]), quotesBot: false) == .chat("今天天气怎么样"))
        #expect(all.decide(groupEvent([.text("小助手\u{3000}在吗")]), quotesBot: false) == .chat("在吗"))
        #expect(triggers(.nickname).decide(groupEvent([.text("Hub, hi")]), quotesBot: false) == .chat("hi"))
        #expect(triggers(.at, .reply, .prefix).decide(groupEvent([.text("Hub, hi")]), quotesBot: false) == .ignore(.notAddressed))
        // In private chats the nickname is stripped too.
        #expect(triggers().decide(privateEvent([.text("Hub, hi")]), quotesBot: false) == .chat("hi"))
        // A nickname followed by a command.
        #expect(triggers(.nickname).decide(groupEvent([.text("Hub /reset")]), quotesBot: false) == .command(.reset))
    }

    // MARK: Commands

    @Test func commandsWithThePrefix() {
        let cases: [(String, ChatCommand)] = [
            ("/help", .help), ("/HELP", .help), ("/reset", .reset), (" /reset ", .reset), ("/model", .model(nil)),
            ("/model deepseek-chat", .model("deepseek-chat")), ("/model   gpt-4o-mini  ", .model("gpt-4o-mini")),
            ("/persona", .persona(nil)), ("/persona You are a pirate. Talk like one.", .persona("You are a pirate. Talk like one.")),
            ("/persona reset", .persona("reset")),
        ]
        for (text, command) in cases {
            #expect(all.decide(groupEvent([.text(text)]), quotesBot: false) == .command(command), "\(text)")
            #expect(all.decide(privateEvent([.text(text)]), quotesBot: false) == .command(command), "\(text)")
        }
    }

    @Test func commandsAfterAnAtWhenThePrefixTriggerIsOff() {
        let atOnly = triggers(.at)
        #expect(atOnly.decide(groupEvent([.mention(Self.bot), .text(" /reset")]), quotesBot: false) == .command(.reset))
        #expect(atOnly.decide(groupEvent([.mention(Self.bot), .text("/model qwen")]), quotesBot: false) == .command(.model("qwen")))
        #expect(atOnly.decide(groupEvent([.text("/reset")]), quotesBot: false) == .ignore(.notAddressed))
        // An unknown command addressed by @ is just text for the model.
        #expect(atOnly.decide(groupEvent([.mention(Self.bot), .text(" /foo bar")]), quotesBot: false) == .chat("/foo bar"))
        // Same through a reply.
        #expect(triggers(.reply).decide(groupEvent([.quote("1"), .text("/help")]), quotesBot: true) == .command(.help))
    }

    @Test func unknownCommandIsChat() {
        #expect(all.decide(groupEvent([.text("/foo bar")]), quotesBot: false) == .chat("foo bar"))
        #expect(all.decide(groupEvent([.text("/")]), quotesBot: false) == .chat(""))
        #expect(all.decide(groupEvent([.text("/helpme")]), quotesBot: false) == .chat("helpme"))
    }

    // MARK: Rendering

    @Test func mentionsOfOthersAndMediaAreRenderedAsText() {
        let event = groupEvent([.mention(Self.bot), .text(" ask "), .mention("123456"), .text(" about this "), .image(.url("x.png"))])
        #expect(all.decide(event, quotesBot: false) == .chat("ask @123456 about this [image]"))
        #expect(all.decide(privateEvent([.text("look"), .image(.bytes([1, 2], format: "png"))]), quotesBot: false) == .chat("look[image]"))
    }

    @Test func emptyPrefixesAndNicknamesAreIgnored() {
        let policy = ChatPolicy(prefixes: ["", "/"], nicknames: [""])
        #expect(policy.prefixes == ["/"])
        #expect(policy.nicknames.isEmpty)
        #expect(policy.decide(groupEvent([.text("hello")]), quotesBot: false) == .ignore(.notAddressed))
    }
}
