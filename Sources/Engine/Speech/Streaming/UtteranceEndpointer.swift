// SPDX-License-Identifier: Apache-2.0

/// Finds utterances in a live stream of 16 kHz mono samples: where speech starts, the audio to
/// recognize as it comes, and where it ends.
///
/// Every 10 ms frame goes through a ``VoiceActivityDetector``. Speech starts once
/// ``Settings/minimumSpeech`` of voiced frames gather within a little more time than that (a click
/// or a cough never does); the ``Settings/preRoll`` before it is kept and comes first, so the
/// recognizer hears the onset the detector needed to be sure. The utterance ends after
/// ``Settings/silence`` of unvoiced frames, or when its audio reaches ``Settings/maximumLength``;
/// one whose speech lasted less than ``Settings/minimumLength`` is discarded instead of ended.
///
/// Deterministic: no clocks, time is the count of samples pushed since the stream began (or since
/// ``reset()``), so the same audio always gives the same events, however it is cut into pushes.
/// One per stream, used by one task at a time.
///
/// ```swift
/// let endpointer = try UtteranceEndpointer(settings: .init(silence: .milliseconds(500)))
/// var recognition: SpeechRecognitionStream?
/// for event in endpointer.push(pcm) {
///     switch event {
///     case .speechStarted: recognition = speech.openRecognitionStream(language: "en")
///     case .audio(let samples): await recognition?.feed(samples)
///     case .ended(let utterance): let text = try await recognition?.finish().text; recognition = nil  // utterance.start, .end
///     case .discarded: await recognition?.cancel(); recognition = nil
///     }
/// }
/// ```
public final class UtteranceEndpointer {
    /// How utterances are found. Durations are rounded to whole 10 ms frames.
    public struct Settings: Sendable, Hashable {
        /// The detector's mode (3, the default, has the fewest false starts and never-ending utterances in noise).
        public var mode: VoiceActivityDetector.Mode
        /// Voiced audio that starts an utterance, within this much plus a fifth (150 ms of speech in 180 ms).
        public var minimumSpeech: Duration
        /// Unvoiced audio that ends an utterance (`voice.endpoint_silence_ms`).
        public var silence: Duration
        /// Audio kept from before the start and given first.
        public var preRoll: Duration
        /// Longest utterance audio, pre-roll included (`voice.max_utterance_seconds`): it ends there anyway.
        public var maximumLength: Duration
        /// Utterances with less speech than this (start to last voiced frame) are discarded.
        public var minimumLength: Duration
        /// Audio after a reset in which speech cannot start: the detector flags about 70 ms of a
        /// noisy stream's start as speech while it learns the noise.
        public var startupIgnore: Duration

        public init(
            mode: VoiceActivityDetector.Mode = .veryAggressive, minimumSpeech: Duration = .milliseconds(150), silence: Duration = .milliseconds(500),
            preRoll: Duration = .milliseconds(300), maximumLength: Duration = .seconds(30), minimumLength: Duration = .milliseconds(200),
            startupIgnore: Duration = .milliseconds(100)
        ) {
            self.mode = mode
            self.minimumSpeech = minimumSpeech
            self.silence = silence
            self.preRoll = preRoll
            self.maximumLength = maximumLength
            self.minimumLength = minimumLength
            self.startupIgnore = startupIgnore
        }
    }

    /// Why an utterance ended.
    public enum EndReason: String, Sendable, Hashable {
        /// ``Settings/silence`` of unvoiced audio followed the speech.
        case silence
        /// Its audio reached ``Settings/maximumLength``.
        case maximumLength
        /// ``finish()``: the stream ended or the caller asked.
        case flushed
    }

    /// One utterance: positions are sample indices (16 kHz) from the stream's start.
    public struct Utterance: Sendable, Hashable {
        /// The first sample of the audio given for it (the pre-roll's start).
        public var audioStartSample: Int
        /// Where speech started: the first voiced frame of the run that started the utterance.
        public var startSample: Int
        /// Where speech ended: the end of its last voiced frame.
        public var endSample: Int
        /// Where the end was decided: its audio runs to here (``EndReason/silence``: `endSample` plus the silence).
        public var endpointSample: Int
        public var reason: EndReason

        /// Seconds from the stream's start to the start of speech.
        public var start: Double { Double(startSample) / Double(VoiceActivityDetector.sampleRate) }
        /// Seconds from the stream's start to the end of speech (the last voiced frame).
        public var end: Double { Double(endSample) / Double(VoiceActivityDetector.sampleRate) }
        /// Seconds from the stream's start to where the end was decided; minus ``end``, the
        /// endpointing delay in audio time.
        public var endpoint: Double { Double(endpointSample) / Double(VoiceActivityDetector.sampleRate) }
        /// Seconds of audio given for it.
        public var audioSeconds: Double { Double(endpointSample - audioStartSample) / Double(VoiceActivityDetector.sampleRate) }
    }

    /// What a push found, in stream order.
    public enum Event: Sendable, Hashable {
        /// Speech started, `start` seconds from the stream's start (``Utterance/start`` when it ends).
        case speechStarted(start: Double)
        /// Audio of the current utterance, to recognize: the pre-roll and the speech so far right
        /// after ``speechStarted(start:)``, then each push's share until the end.
        case audio([Int16])
        /// The utterance ended; every sample of it came in `audio` before.
        case ended(Utterance)
        /// The utterance had too little speech (``Settings/minimumLength``): forget its audio.
        case discarded(Utterance)
    }

    public let settings: Settings
    private let detector: VoiceActivityDetector

    // Settings in frames.
    private let speechFrames: Int
    private let startWindow: Int
    private let silenceFrames: Int
    private let preRollFrames: Int
    private let maximumSamples: Int
    private let minimumSamples: Int
    private let startupFrames: Int

    /// Frames classified since the start: the next frame's index.
    private var frameIndex = 0
    /// Recent frames while no utterance is open: the pre-roll and the start window, oldest first.
    private var recent: [(samples: [Int16], voiced: Bool)] = []
    /// The open utterance.
    private var current: Utterance?
    /// Unvoiced frames in a row in the open utterance.
    private var silentRun = 0
    /// Events of the push under way.
    private var events: [Event] = []
    private var audio: [Int16] = []

    /// - Throws: ``SpeechError`` of kind `notConfigured` when the detector cannot be made.
    public init(settings: Settings = Settings()) throws {
        self.settings = settings
        detector = try VoiceActivityDetector(mode: settings.mode)
        func frames(_ duration: Duration) -> Int {
            let (seconds, attoseconds) = duration.components
            let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
            return max(0, Int((milliseconds / 10).rounded()))
        }
        speechFrames = max(1, frames(settings.minimumSpeech))
        startWindow = speechFrames + (speechFrames + 4) / 5
        silenceFrames = max(1, frames(settings.silence))
        preRollFrames = frames(settings.preRoll)
        maximumSamples = max(startWindow + preRollFrames + 1, frames(settings.maximumLength)) * VoiceActivityDetector.frameSamples
        minimumSamples = frames(settings.minimumLength) * VoiceActivityDetector.frameSamples
        startupFrames = frames(settings.startupIgnore)
    }

    /// Runs `samples` (16 kHz mono, any count) through the detector; the events they caused.
    public func push(_ samples: some Collection<Int16>) -> [Event] {
        detector.push(samples) { frame, voiced in step(frame, voiced: voiced) }
        return takeEvents()
    }

    /// Ends the open utterance (``EndReason/flushed``) as if the stream stopped here: its
    /// `ended` or `discarded` event, or none when no utterance is open; speech that had begun
    /// but not yet started an utterance is forgotten. The stream goes on from here (the part of a
    /// frame still buffered waits for the next push).
    public func finish() -> [Event] {
        if current != nil {
            endUtterance(.flushed)
        }
        recent.removeAll()
        return takeEvents()
    }

    /// Starts a new stream: the detector forgets the noise, time starts again at 0, an open
    /// utterance is dropped without an event.
    public func reset() {
        detector.reset()
        frameIndex = 0
        recent.removeAll()
        current = nil
        silentRun = 0
        events.removeAll()
        audio.removeAll()
    }

    /// Whether an utterance is open.
    public var inSpeech: Bool { current != nil }

    /// Samples pushed so far (whole frames) since the start.
    public var samplesProcessed: Int { frameIndex * VoiceActivityDetector.frameSamples }

    // MARK: - Frames

    private func step(_ frame: UnsafeBufferPointer<Int16>, voiced: Bool) {
        let frameStart = frameIndex * VoiceActivityDetector.frameSamples
        frameIndex += 1
        if var utterance = current {
            audio.append(contentsOf: frame)
            utterance.endpointSample = frameStart + frame.count
            if voiced {
                utterance.endSample = frameStart + frame.count
                silentRun = 0
            } else {
                silentRun += 1
            }
            current = utterance
            if silentRun >= silenceFrames {
                endUtterance(.silence)
            } else if utterance.endpointSample - utterance.audioStartSample >= maximumSamples {
                endUtterance(.maximumLength)
            }
            return
        }
        // Before the detector has learnt the noise, nothing counts as speech.
        recent.append((Array(frame), voiced && frameIndex > startupFrames))
        if recent.count > preRollFrames + startWindow { recent.removeFirst(recent.count - preRollFrames - startWindow) }
        let window = recent.suffix(startWindow)
        guard window.last?.voiced == true, window.lazy.filter(\.voiced).count >= speechFrames else { return }
        startUtterance(frameStart: frameStart)
    }

    /// Opens an utterance whose start run ends with the frame at `frameStart` (the last of `recent`).
    private func startUtterance(frameStart: Int) {
        let windowStart = recent.count - min(startWindow, recent.count)
        let firstVoiced = recent[windowStart...].firstIndex { $0.voiced } ?? windowStart
        let firstKept = max(0, firstVoiced - preRollFrames)
        let framesBack = recent.count - 1
        let frame = VoiceActivityDetector.frameSamples
        let utterance = Utterance(
            audioStartSample: frameStart - (framesBack - firstKept) * frame, startSample: frameStart - (framesBack - firstVoiced) * frame,
            endSample: frameStart + frame, endpointSample: frameStart + frame, reason: .silence)
        flushAudio()
        events.append(.speechStarted(start: Double(utterance.startSample) / Double(VoiceActivityDetector.sampleRate)))
        for kept in recent[firstKept...] { audio.append(contentsOf: kept.samples) }
        recent.removeAll()
        current = utterance
        silentRun = 0
    }

    private func endUtterance(_ reason: EndReason) {
        guard var utterance = current else { return }
        utterance.reason = reason
        current = nil
        silentRun = 0
        if utterance.endSample - utterance.startSample < minimumSamples {
            audio.removeAll()
            events.append(.discarded(utterance))
        } else {
            flushAudio()
            events.append(.ended(utterance))
        }
    }

    /// Turns the audio gathered so far into one event.
    private func flushAudio() {
        guard !audio.isEmpty else { return }
        events.append(.audio(audio))
        audio.removeAll(keepingCapacity: true)
    }

    private func takeEvents() -> [Event] {
        flushAudio()
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }
}
