// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// Text of an answer as the voice door speaks and shows it.
enum VoiceSpeech {
    /// `text` without markup or emoji: what is shown with `sentence_start` and read aloud.
    static func speakable(_ text: String) -> String {
        VoiceEmotion.removingEmoji(from: SpeakableText.clean(text)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
