// SPDX-License-Identifier: Apache-2.0

/// The face a xiaozhi device shows while it answers: an emoji and the name the device knows it by.
///
/// The hub sends one `llm` message per turn with the emotion of the answer: the first known emoji
/// in its text, ``happy`` when there is none. Spoken and displayed sentences go without emoji.
///
/// ```swift
/// let emotion = VoiceEmotion(of: "That's hilarious 😂")   // .funny
/// VoiceEmotion.removingEmoji(from: "Sure 👍 here it is") // "Sure here it is"
/// ```
public struct VoiceEmotion: Sendable, Hashable, CustomStringConvertible {
    /// The emoji, sent as the `llm` message's `text`.
    public let emoji: Unicode.Scalar
    /// The name, sent as its `emotion`.
    public let name: String

    public init(emoji: Unicode.Scalar, name: String) {
        self.emoji = emoji
        self.name = name
    }

    public var description: String { "\(emoji) \(name)" }

    public static let funny = VoiceEmotion(emoji: "😂", name: "funny")
    public static let crying = VoiceEmotion(emoji: "😭", name: "crying")
    public static let angry = VoiceEmotion(emoji: "😠", name: "angry")
    public static let sad = VoiceEmotion(emoji: "😔", name: "sad")
    public static let loving = VoiceEmotion(emoji: "😍", name: "loving")
    public static let surprised = VoiceEmotion(emoji: "😲", name: "surprised")
    public static let shocked = VoiceEmotion(emoji: "😱", name: "shocked")
    public static let thinking = VoiceEmotion(emoji: "🤔", name: "thinking")
    public static let relaxed = VoiceEmotion(emoji: "😌", name: "relaxed")
    public static let sleepy = VoiceEmotion(emoji: "😴", name: "sleepy")
    public static let silly = VoiceEmotion(emoji: "😜", name: "silly")
    public static let confused = VoiceEmotion(emoji: "🙄", name: "confused")
    public static let neutral = VoiceEmotion(emoji: "😶", name: "neutral")
    public static let happy = VoiceEmotion(emoji: "🙂", name: "happy")
    public static let laughing = VoiceEmotion(emoji: "😆", name: "laughing")
    public static let embarrassed = VoiceEmotion(emoji: "😳", name: "embarrassed")
    public static let winking = VoiceEmotion(emoji: "😉", name: "winking")
    public static let cool = VoiceEmotion(emoji: "😎", name: "cool")
    public static let delicious = VoiceEmotion(emoji: "🤤", name: "delicious")
    public static let kissy = VoiceEmotion(emoji: "😘", name: "kissy")
    public static let confident = VoiceEmotion(emoji: "😏", name: "confident")

    /// Every emotion a device knows.
    public static let all: [VoiceEmotion] = [
        funny, crying, angry, sad, loving, surprised, shocked, thinking, relaxed, sleepy, silly, confused, neutral, happy, laughing,
        embarrassed, winking, cool, delicious, kissy, confident,
    ]

    private static let byEmoji: [Unicode.Scalar: VoiceEmotion] = Dictionary(uniqueKeysWithValues: all.map { ($0.emoji, $0) })

    /// The emotion of an answer: that of the first known emoji in `text` (in reading order; a
    /// known emoji with a variation selector or inside a sequence counts), else ``happy``.
    public init(of text: some StringProtocol) {
        self = text.unicodeScalars.lazy.compactMap { Self.byEmoji[$0] }.first ?? .happy
    }

    /// The emotion named `name` (`"sad"`), nil for a name no device knows.
    public init?(named name: String) {
        guard let emotion = Self.all.first(where: { $0.name == name }) else { return nil }
        self = emotion
    }

    /// `text` without its emoji, for a `sentence_start` line and for the speech synthesizer: a
    /// character goes when it is drawn as an emoji by default (😀, 👍, 🇨🇳, 👩‍💻) or asks for emoji
    /// presentation (❤️, 1️⃣). Digits, `#`, `*` and text symbols (©, ☺ without U+FE0F) stay. Spaces
    /// a removal leaves doubled, leading, or before punctuation go with it (`"Hi 😀 there 👍!"` →
    /// `"Hi there!"`), and the result has no spaces at either end.
    public static func removingEmoji(from text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var removed = false  // emoji were dropped since the last character kept
        for character in text {
            if isEmoji(character) {
                removed = true
                continue
            }
            if removed {
                if character == " ", result.isEmpty || result.last == " " { continue }
                if character.isPunctuation, result.last == " " { result.removeLast() }
                removed = false
            }
            result.append(character)
        }
        while result.last == " " { result.removeLast() }
        while result.first == " " { result.removeFirst() }
        return result
    }

    /// Whether a character is drawn as an emoji.
    static func isEmoji(_ character: Character) -> Bool {
        var sawEmoji = false
        for scalar in character.unicodeScalars {
            let properties = scalar.properties
            if properties.isEmojiPresentation { return true }
            switch scalar.value {
            case 0xFE0F, 0x20E3, 0x200D:  // emoji presentation selector, keycap, zero-width joiner
                if sawEmoji { return true }
            case 0x1F3FB...0x1F3FF:  // skin tones
                return true
            default:
                break
            }
            if properties.isEmoji { sawEmoji = true }
        }
        return false
    }
}
