// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// One utterance recognized as it arrives: ``feed(_:)`` the audio while it is spoken, read
/// ``partial`` meanwhile, then ``finish()`` for the text, or ``cancel()``. Made by
/// ``SpeechEngine/openRecognitionStream(language:maxSeconds:)``.
///
/// When the provider the recognition router would try first can recognize while the speech is
/// spoken (PocketSphinx in process) and has a decoder free, the stream holds that decoder for the
/// utterance and feeds it as the audio comes: the text is ready soon after the end, and partial
/// text is there while speaking. Otherwise (a remote provider first, every decoder taken, or the
/// live decoder failing on the way) the audio is kept and recognized whole at ``finish()``
/// through the router, with its failover, the `cpu` lane and usage accounting; there is no
/// partial text then. The audio is kept in either case, up to `maxSeconds` (more is dropped).
///
/// Calls come from one task, one at a time; ``cancel()`` may come from anywhere. A stream that
/// is dropped unfinished gives its decoder back.
///
/// ```swift
/// let stream = speech.openRecognitionStream(language: "en", maxSeconds: 30)
/// await stream.feed(samples)            // 16 kHz mono, as it arrives
/// if let text = stream.partial { … }    // while speaking
/// let result = try await stream.finish()  // result.text, result.provider
/// ```
public final class SpeechRecognitionStream: Sendable {
    /// What was said in the utterance.
    public struct Result: Sendable, Hashable {
        public var text: String
        /// The provider that recognized it (empty when there was no audio).
        public var provider: String
        /// Recognized while spoken (true) or whole at the end (false).
        public var live: Bool
        /// Seconds of audio recognized.
        public var seconds: Double
    }

    /// The sample rate of the audio fed.
    public static let sampleRate = 16_000

    private let speech: SpeechEngine
    private let language: String?
    private let maxSamples: Int
    private let state: Mutex<State>

    private struct State {
        /// The live recognition, while there is one.
        var live: SpeechRecognitionRouter.LiveRoute?
        /// Every sample fed (up to `maxSamples`).
        var audio: [Int16] = []
        var partial: String?
        /// Finished or cancelled.
        var closed = false
    }

    init(speech: SpeechEngine, live: SpeechRecognitionRouter.LiveRoute?, language: String?, maxSeconds: Double) {
        self.speech = speech
        self.language = language
        maxSamples = Int(max(0, maxSeconds) * Double(Self.sampleRate))
        state = Mutex(State(live: live))
    }

    /// Whether the utterance is being recognized while spoken (partial text comes).
    public var isLive: Bool { state.withLock { $0.live != nil } }

    /// The latest partial text of a live recognition: nil before the first words and when not live.
    public var partial: String? { state.withLock { $0.partial } }

    /// Recognizes `samples` (16 kHz mono) after what came before; on a live recognition this
    /// waits while the decoder takes them (about a fifth of their duration). After
    /// ``finish()`` or ``cancel()``, and beyond `maxSeconds`, samples are ignored.
    public func feed(_ samples: [Int16]) async {
        let (live, accepted) = state.withLock { state -> (SpeechRecognitionRouter.LiveRoute?, [Int16]) in
            guard !state.closed else { return (nil, []) }
            let room = max(0, maxSamples - state.audio.count)
            let accepted = samples.count <= room ? samples : Array(samples.prefix(room))
            state.audio += accepted
            return (state.live, accepted)
        }
        guard let live, !accepted.isEmpty else { return }
        do {
            if let partial = try await live.recognition.feed(accepted), !partial.isEmpty {
                state.withLock { if $0.live != nil { $0.partial = partial } }
            }
        } catch {
            // The audio is all kept: the utterance is recognized whole at the end instead.
            fallBack(from: live, error: error, seconds: 0, latency: .zero)
        }
    }

    /// The text of everything fed. Throws what the router throws when the utterance is
    /// recognized whole (``SpeechError``, `CancellationError`); a live recognition that fails is
    /// retried that way. Closes the stream.
    public func finish() async throws -> Result {
        let (live, audio) = state.withLock { state -> (SpeechRecognitionRouter.LiveRoute?, [Int16]) in
            guard !state.closed else { return (nil, []) }
            state.closed = true
            defer {
                state.audio = []
                state.live = nil
            }
            return (state.live, state.audio)
        }
        let seconds = Double(audio.count) / Double(Self.sampleRate)
        guard !audio.isEmpty else {
            live?.recognition.cancel()
            return Result(text: "", provider: "", live: false, seconds: 0)
        }
        if let live {
            let started = ContinuousClock.now
            do {
                let text = try await live.recognition.finish()
                speech.recognition.recordLive(live, outcome: "ok", seconds: seconds, latency: ContinuousClock.now - started)
                return Result(text: text, provider: live.provider, live: true, seconds: seconds)
            } catch {
                if Task.isCancelled {
                    speech.recognition.recordLive(live, outcome: "cancelled", seconds: seconds, latency: ContinuousClock.now - started)
                    throw CancellationError()
                }
                fallBack(from: live, error: error, seconds: seconds, latency: ContinuousClock.now - started)
            }
        }
        let routed = try await speech.transcribe(.pcm(PCMAudio(samples: audio, sampleRate: Self.sampleRate)), language: language)
        return Result(text: routed.transcript.text, provider: routed.provider, live: false, seconds: seconds)
    }

    /// Drops the utterance and gives back a live decoder. Never waits.
    public func cancel() {
        let live = state.withLock { state -> SpeechRecognitionRouter.LiveRoute? in
            state.closed = true
            state.audio = []
            defer { state.live = nil }
            return state.live
        }
        live?.recognition.cancel()
    }

    /// Ends a live recognition that failed (accounted for as a failed attempt) and goes on
    /// without it.
    private func fallBack(from live: SpeechRecognitionRouter.LiveRoute, error: any Error, seconds: Double, latency: Duration) {
        live.recognition.cancel()
        state.withLock { state in
            state.live = nil
            state.partial = nil
        }
        speech.recognition.recordLive(live, outcome: SpeechRouting.outcome(of: error), seconds: seconds, latency: latency)
    }
}

extension SpeechEngine {
    /// A stream for one utterance, recognized while it is spoken when the recognizer the router
    /// would try first can do that and has room, else whole at its end (see ``SpeechRecognitionStream``).
    /// Opening never waits.
    ///
    /// - Parameters:
    ///   - language: a hint (ISO 639-1), as for ``transcribe(_:language:)``.
    ///   - maxSeconds: audio kept at most (`voice.max_utterance_seconds`); more is ignored.
    public func openRecognitionStream(language: String? = nil, maxSeconds: Double = 30) -> SpeechRecognitionStream {
        SpeechRecognitionStream(speech: self, live: recognition.startLive(language: language), language: language, maxSeconds: maxSeconds)
    }
}
