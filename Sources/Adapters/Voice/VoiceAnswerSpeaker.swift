// SPDX-License-Identifier: Apache-2.0
import Engine
import Logging

/// Speaks one answer as it is written: each sentence of the engine's answer stream is shown
/// (`sentence_start`), synthesized and queued as audio frames while the model is still writing the
/// next one, and `tts stop` goes once the device has played everything.
///
/// The stream is drained by a task of its own into a sentence queue, so the engine never waits for
/// speech synthesis; the speaking loop synthesizes one sentence at a time, in order, in the `cpu`
/// lane. An ``VoiceOutbox/flush()`` (barge-in) ends the epoch the speaker speaks for: it stops,
/// cancels the stream (the engine cancels the turn and stores nothing of it) and sends nothing more.
struct VoiceAnswerSpeaker: Sendable {
    /// What the connection turns into its messages.
    enum Cue: Sendable, Equatable {
        /// The answer's audio begins (`tts start`).
        case start
        /// The answer's mood, from its first sentence (`llm` with an emotion).
        case emotion(VoiceEmotion)
        /// A sentence begins (`tts sentence_start` with its text).
        case sentence(String)
        /// Everything was played (`tts stop`).
        case stop
    }

    /// How the answer ended, for the connection's log line and metrics.
    struct Outcome: Sendable {
        /// The terminal part (nil when the epoch ended first).
        var terminal: AnswerPart?
        /// Sentences spoken (synthesized and queued).
        var sentences = 0
        /// Sentences whose synthesis failed (shown, not heard).
        var unspoken = 0
    }

    let speech: SpeechEngine
    /// The voice asked of the synthesizers; nil for their default.
    let voice: String?
    let encoder: VoiceFrameEncoder
    let outbox: VoiceOutbox
    let render: @Sendable (Cue) -> String
    let timing: VoiceTurnTiming
    let logger: Logger
    /// Most sentences waiting to be spoken; beyond it the rest of a runaway answer is shown only.
    var maxPendingSentences = 1024

    /// Speaks `stream` for `epoch` and returns how it ended.
    func speak(_ stream: AnswerStream, epoch: UInt64) async -> Outcome {
        let sentences = BoundedQueue<AnswerPart>(capacity: maxPendingSentences)
        let reader = Task { [timing] in
            var terminal: AnswerPart?
            var overflowed = false
            for await part in stream {
                switch part {
                case .delta(let text):
                    if !text.isEmpty { timing.mark(.firstToken) }
                case .sentence:
                    timing.mark(.firstSentence)
                    if !sentences.tryEnqueue(part) { overflowed = true }
                default:
                    terminal = part
                    if !sentences.tryEnqueue(part) { overflowed = true }
                }
            }
            sentences.close()
            return (terminal, overflowed)
        }
        var outcome = Outcome()
        var spokeAnything = false
        var started = false
        speaking: while let part = await sentences.next() {
            guard outbox.isCurrent(epoch) else { break }
            var texts = [String]()
            switch part {
            case .sentence(let text):
                texts = [text]
            case .final(let reply), .notice(let reply, _), .failure(let reply, _):
                // A command's reply, a cached answer, a notice or an apology: no sentences were
                // streamed for it (or a failure cut the answer short), so it is spoken whole.
                if case .final = part, spokeAnything { break }
                var accumulator = SentenceAccumulator()
                texts = accumulator.append(reply.text)
                if let rest = accumulator.finish() { texts.append(rest) }
            default:
                continue speaking
            }
            for text in texts {
                let spoken = VoiceSpeech.speakable(text)
                guard !spoken.isEmpty else { continue }
                if !started {
                    started = true
                    outbox.send(render(.start))
                    outbox.send(render(.emotion(VoiceEmotion(of: text))))
                }
                spokeAnything = true
                outbox.send(render(.sentence(spoken)))
                switch await say(spoken, epoch: epoch) {
                case .spoken: outcome.sentences += 1
                case .failed: outcome.unspoken += 1
                case .unwanted: break speaking
                }
            }
        }
        if !outbox.isCurrent(epoch) {
            await stream.cancel()
            reader.cancel()
            _ = await reader.value
            return outcome
        }
        let (terminal, overflowed) = await reader.value
        if overflowed { logger.warning("answer too long to speak whole; the rest was dropped") }
        outcome.terminal = terminal
        if started { outbox.sendAfterPlayback(render(.stop)) }
        return outcome
    }

    private enum Said { case spoken, failed, unwanted }

    /// Synthesizes `text` and queues its frames; `unwanted` when the epoch ended meanwhile.
    private func say(_ text: String, epoch: UInt64) async -> Said {
        let frames: [[UInt8]]
        do {
            let routed = try await speech.synthesize(SpeechRequest(text: text, voice: voice))
            frames = try encoder.frames(of: try SpeechAudio.pcm(from: routed.speech))
        } catch {
            if !outbox.isCurrent(epoch) || error is CancellationError { return .unwanted }
            logger.warning("a sentence could not be spoken", metadata: ["error": "\(error)"])
            return .failed
        }
        timing.mark(.firstAudioReady)
        for frame in frames {
            guard await outbox.sendAudio(frame, epoch: epoch) else { return .unwanted }
        }
        return .spoken
    }
}
