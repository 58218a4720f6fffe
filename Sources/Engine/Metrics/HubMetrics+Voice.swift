// SPDX-License-Identifier: Apache-2.0
import CoreMetrics
import Metrics

extension HubMetrics {
    /// One step of a live voice turn took `duration`: `step` is `endpointing` (last speech frame to
    /// the end of the utterance decided), `recognition` (end of utterance to transcript),
    /// `llm_first_token` and `first_sentence` (transcript to the model's first token / first whole
    /// sentence), `first_audio` (end of utterance to the first answer audio frame sent: what the
    /// user waits for).
    public func voiceTurnStep(_ step: String, duration: Duration) {
        timer(label: "hub_voice_turn_step_seconds", dimensions: [("step", step)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A voice turn ended: `outcome` is `answered`, `aborted`, `empty` (nothing recognized),
    /// `refused` or `failed`.
    public func voiceTurn(outcome: String) {
        counter(label: "hub_voice_turns_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// Seconds of audio a voice client sent.
    public func voiceAudioReceived(seconds: Double) {
        floatingCounter(label: "hub_voice_audio_seconds_total", dimensions: []).increment(by: seconds)
    }
}
