// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// When each step of one voice turn happened, marked by whichever task reached it first: the
/// connection (speech ended, transcript ready, the turn began), the speaker (first token, first
/// sentence, first audio ready) and the writer (first audio frame sent).
final class VoiceTurnTiming: Sendable {
    /// A step of the turn.
    enum Step: Int, Sendable, CaseIterable {
        /// The last frame with speech in it arrived.
        case speechEnded
        /// The end of the utterance was decided (VAD silence, `listen stop`).
        case endpointed
        /// The recognizer returned the transcript.
        case transcribed
        /// The model's first token arrived.
        case firstToken
        /// The first sentence of the answer ended.
        case firstSentence
        /// The first sentence's audio was synthesized and encoded.
        case firstAudioReady
        /// The first audio frame was written to the socket.
        case firstAudioSent
    }

    private let marks = Mutex([ContinuousClock.Instant?](repeating: nil, count: Step.allCases.count))

    init() {}

    /// Records `step` now (or at `instant`), unless it was recorded before.
    func mark(_ step: Step, at instant: ContinuousClock.Instant = .now) {
        marks.withLock { marks in
            if marks[step.rawValue] == nil { marks[step.rawValue] = instant }
        }
    }

    /// When `step` happened; nil when it has not.
    func time(of step: Step) -> ContinuousClock.Instant? { marks.withLock { $0[step.rawValue] } }

    /// Seconds from `start` to `end`; nil unless both happened.
    func seconds(from start: Step, to end: Step) -> Double? {
        guard let from = time(of: start), let to = time(of: end) else { return nil }
        let duration = to - from
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
