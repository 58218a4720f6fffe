// SPDX-License-Identifier: Apache-2.0

/// How a chat door's answers are spoken when a session turned `/voice on` (configuration `voice:`).
public struct VoiceReplySettings: Sendable, Hashable {
    /// What the user gets.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The voice clips only (the text stays in the history).
        case voice
        /// The text, then the voice clips.
        case textAndVoice = "text_and_voice"
    }

    public var mode: Mode
    /// Longest clip; a longer answer is split at sentence boundaries into several.
    public var maxClipSeconds: Double
    /// Most clips for one answer; what does not fit is not spoken (the text has it).
    public var maxClips: Int
    /// The voice to speak with; nil for the first provider's default.
    public var voice: String?

    public init(mode: Mode = .textAndVoice, maxClipSeconds: Double = 30, maxClips: Int = 10, voice: String? = nil) {
        self.mode = mode
        self.maxClipSeconds = maxClipSeconds
        self.maxClips = max(1, maxClips)
        self.voice = voice
    }
}
