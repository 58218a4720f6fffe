// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct ChatCommandTests {
    @Test func namesAreCaseInsensitive() {
        #expect(ChatCommand.parse("help") == .help)
        #expect(ChatCommand.parse("Help") == .help)
        #expect(ChatCommand.parse("RESET") == .reset)
    }

    @Test func arguments() {
        #expect(ChatCommand.parse("model") == .model(nil))
        #expect(ChatCommand.parse("model   ") == .model(nil))
        #expect(ChatCommand.parse("model deepseek-chat") == .model("deepseek-chat"))
        #expect(ChatCommand.parse("model\tqwen2.5:7b") == .model("qwen2.5:7b"))
        #expect(ChatCommand.parse("persona") == .persona(nil))
        #expect(ChatCommand.parse("persona  You are terse.\nAnswer in Chinese. ") == .persona("You are terse.\nAnswer in Chinese."))
        // Arguments keep their case.
        #expect(ChatCommand.parse("MODEL GPT-4o") == .model("GPT-4o"))
        // Extra words after an argument-less command are ignored.
        #expect(ChatCommand.parse("help me please") == .help)
        #expect(ChatCommand.parse("reset now") == .reset)
    }

    @Test func surroundingWhitespace() {
        #expect(ChatCommand.parse("  help  ") == .help)
        #expect(ChatCommand.parse("\nreset\n") == .reset)
        #expect(ChatCommand.parse("reset\r\n") == .reset)
        #expect(ChatCommand.parse("persona\u{3000}猫娘") == .persona("猫娘"))
    }

    @Test func notCommands() {
        #expect(ChatCommand.parse("") == nil)
        #expect(ChatCommand.parse("   ") == nil)
        #expect(ChatCommand.parse("foo bar") == nil)
        #expect(ChatCommand.parse("helpme") == nil)
        #expect(ChatCommand.parse("models") == nil)
        #expect(ChatCommand.parse("/help") == nil)
    }
}
