// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Adapters

struct VoiceEmotionTests {
    @Test func theListHasTheTwentyOneEmotions() {
        #expect(VoiceEmotion.all.count == 21)
        #expect(Set(VoiceEmotion.all.map(\.emoji)).count == 21)
        #expect(Set(VoiceEmotion.all.map(\.name)).count == 21)
        for emotion in VoiceEmotion.all {
            #expect(VoiceEmotion(of: "x \(emotion.emoji) y") == emotion)
            #expect(VoiceEmotion(named: emotion.name) == emotion)
        }
    }

    @Test(arguments: [
        ("Ha, that's a good one 😂", VoiceEmotion.funny),
        ("😭 I miss it", .crying),
        ("Hmm 🤔 let me think… 😎", .thinking),  // the first one in the text
        ("😎 then 🤔", .cool),
        ("Great 👍 👋 😴", .sleepy),  // unknown emoji are skipped
        ("Okay 🙂\u{FE0F}", .happy),
        ("Shh 😶\u{200D}🌫\u{FE0F}", .neutral),  // face in clouds starts with the neutral face
        ("晚安😴", .sleepy),
    ])
    func picksTheFirstKnownEmoji(text: String, expected: VoiceEmotion) {
        #expect(VoiceEmotion(of: text) == expected)
    }

    @Test(arguments: ["", "No emoji here.", "Thumbs up 👍", "©2026 ☺"])
    func defaultsToHappy(text: String) {
        #expect(VoiceEmotion(of: text) == .happy)
    }

    @Test func unknownNames() {
        #expect(VoiceEmotion(named: "grumpy") == nil)
        #expect(VoiceEmotion(named: "Happy") == nil)
    }

    @Test(arguments: [
        ("Hi 😀 there", "Hi there"),
        ("Hi 😀 there 👍!", "Hi there!"),
        ("😂 That is funny.", "That is funny."),
        ("That is funny 😂😂", "That is funny"),
        ("好的😀。", "好的。"),
        ("I ❤️ this", "I this"),
        ("Press 1️⃣ now", "Press now"),
        ("Flag 🇨🇳 and coder 👩‍💻 and wave 👋🏽.", "Flag and coder and wave."),
        ("Call 110 or #1 * 2", "Call 110 or #1 * 2"),
        ("© 2026 ☺ ™", "© 2026 ☺ ™"),
        ("No emoji, no change.", "No emoji, no change."),
        ("  spaced  out  ", "spaced  out"),
        ("😀", ""),
        ("", ""),
    ])
    func removesEmoji(text: String, expected: String) {
        #expect(VoiceEmotion.removingEmoji(from: text) == expected)
    }
}
