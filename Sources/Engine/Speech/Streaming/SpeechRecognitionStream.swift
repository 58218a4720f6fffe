// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// One utterance recognized as it arrives: ``feed(_:)`` the audio while it is spoken, read
/// ``partial`` meanwhile, then ``finish()`` for the text, or ``cancel()``. Made by
/// ``SpeechEngine/openRecognitionStream(language:maxSeconds:)``.
///
/// When the provider the recognition router would try first can recognize while the speech is
/// spoken (PocketSphinx in process) and has a decoder free (at the start, or within the first 5 s
/// of audio), the stream holds that decoder for the utterance and feeds it as the audio comes: the
/// text is ready soon after the end, and partial text is there while speaking. Otherwise (a
/// remote provider first, every decoder taken, or the live decoder failing on the way) the audio
/// is recognized whole at ``finish()`` through the router, with its failover, the `cpu` lane and
/// usage accounting; there is no partial text then. The audio is kept in either case, up to
/// `maxSeconds` (more is dropped). A live recognition is accounted for like a routed attempt (a
/// usage row of kind `stt`, the speech metrics) but bypasses the lane: the decoder pool bounds it.
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
    /// Audio a stream that found every decoder taken may have gathered and still go live when one
    /// comes free (it is fed at once to catch up): 5 s.
    static let catchUpSamples = 5 * sampleRate

    private let speech: SpeechEngine
    private let language: String?
    private let maxSamples: Int
    private let state: Mutex<State>

    private struct State {
        /// The route recognizing live, or that may still start to (every decoder was taken).
        var route: SpeechRecognitionRouter.LiveRoute?
        /// The live recognition, while there is one.
        var live: (any LiveSpeechRecognition)?
        /// Every sample fed (up to `maxSamples`).
        var audio: [Int16] = []
        var partial: String?
        /// Finished or cancelled.
        var closed = false
    }

    /// What a feed does once the samples are kept.
    private enum Step {
        case none
        case feed(any LiveSpeechRecognition, [Int16], SpeechRecognitionRouter.LiveRoute)
        /// Try to start live on the route, and feed it everything so far.
        case start(SpeechRecognitionRouter.LiveRoute, [Int16])
    }

    init(speech: SpeechEngine, route: SpeechRecognitionRouter.LiveRoute?, language: String?, maxSeconds: Double) {
        self.speech = speech
        self.language = language
        maxSamples = Int(max(0, maxSeconds) * Double(Self.sampleRate))
        var state = State(route: route)
        if let route {
            do {
                state.live = try route.recognizer.startLiveRecognition(language: language)
            } catch {
                state.route = nil  // it cannot do this language: whole at the end
            }
        }
        self.state = Mutex(state)
    }

    /// Whether the utterance is being recognized while spoken (partial text comes).
    public var isLive: Bool { state.withLock { $0.live != nil } }

    /// The latest partial text of a live recognition: nil before the first words and when not live.
    public var partial: String? { state.withLock { $0.partial } }

    /// Recognizes `samples` (16 kHz mono) after what came before; on a live recognition this
    /// waits while the decoder takes them (about a fifth of their duration). A stream that found
    /// every decoder taken goes live when one comes free within its first 5 s of audio. After
    /// ``finish()`` or ``cancel()``, and beyond `maxSeconds`, samples are ignored.
    public func feed(_ samples: [Int16]) async {
        let step = state.withLock { state -> Step in
            guard !state.closed else { return .none }
            let room = max(0, maxSamples - state.audio.count)
            let accepted = samples.count <= room ? samples : Array(samples.prefix(room))
            guard !accepted.isEmpty else { return .none }
            state.audio += accepted
            guard let route = state.route else { return .none }
            if let live = state.live { return .feed(live, accepted, route) }
            return state.audio.count <= Self.catchUpSamples ? .start(route, state.audio) : .none
        }
        switch step {
        case .none:
            return
        case .feed(let live, let accepted, let route):
            await feed(accepted, to: live, on: route)
        case .start(let route, let audio):
            guard let live = try? route.recognizer.startLiveRecognition(language: language) else { return }
            let attached = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.live = live
                return true
            }
            guard attached else { return live.cancel() }
            await feed(audio, to: live, on: route)
        }
    }

    private func feed(_ samples: [Int16], to live: any LiveSpeechRecognition, on route: SpeechRecognitionRouter.LiveRoute) async {
        do {
            if let partial = try await live.feed(samples), !partial.isEmpty {
                state.withLock { if $0.live != nil { $0.partial = partial } }
            }
        } catch {
            // The audio is all kept: the utterance is recognized whole at the end instead.
            fallBack(from: live, on: route, error: error, seconds: 0, latency: .zero)
        }
    }

    /// The text of everything fed. Throws what the router throws when the utterance is
    /// recognized whole (``SpeechError``, `CancellationError`); a live recognition that fails is
    /// retried that way. Closes the stream.
    public func finish() async throws -> Result {
        let (live, route, audio) = state.withLock { state -> ((any LiveSpeechRecognition)?, SpeechRecognitionRouter.LiveRoute?, [Int16]) in
            guard !state.closed else { return (nil, nil, []) }
            state.closed = true
            defer {
                state.audio = []
                state.live = nil
            }
            return (state.live, state.route, state.audio)
        }
        let seconds = Double(audio.count) / Double(Self.sampleRate)
        guard !audio.isEmpty else {
            live?.cancel()
            return Result(text: "", provider: "", live: false, seconds: 0)
        }
        if let live, let route {
            let started = ContinuousClock.now
            do {
                let text = try await live.finish()
                speech.recognition.recordLive(route, outcome: "ok", seconds: seconds, latency: ContinuousClock.now - started)
                return Result(text: text, provider: route.provider, live: true, seconds: seconds)
            } catch {
                if Task.isCancelled {
                    speech.recognition.recordLive(route, outcome: "cancelled", seconds: seconds, latency: ContinuousClock.now - started)
                    throw CancellationError()
                }
                fallBack(from: live, on: route, error: error, seconds: seconds, latency: ContinuousClock.now - started)
            }
        }
        let routed = try await speech.transcribe(.pcm(PCMAudio(samples: audio, sampleRate: Self.sampleRate)), language: language)
        return Result(text: routed.transcript.text, provider: routed.provider, live: false, seconds: seconds)
    }

    /// Drops the utterance and gives back a live decoder. Never waits.
    public func cancel() {
        let live = state.withLock { state -> (any LiveSpeechRecognition)? in
            state.closed = true
            state.audio = []
            defer { state.live = nil }
            return state.live
        }
        live?.cancel()
    }

    /// Ends a live recognition that failed (accounted for as a failed attempt) and goes on
    /// without it, for good.
    private func fallBack(
        from live: any LiveSpeechRecognition, on route: SpeechRecognitionRouter.LiveRoute, error: any Error, seconds: Double, latency: Duration
    ) {
        live.cancel()
        state.withLock { state in
            state.live = nil
            state.route = nil
            state.partial = nil
        }
        speech.recognition.recordLive(route, outcome: SpeechRouting.outcome(of: error), seconds: seconds, latency: latency)
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
        SpeechRecognitionStream(speech: self, route: recognition.liveRoute(), language: language, maxSeconds: maxSeconds)
    }
}
