// SPDX-License-Identifier: Apache-2.0
import Engine

/// The microphone side of one voice connection: the client's audio frames in (Opus packets or
/// 16 kHz PCM16), utterances out, each recognized while it is spoken.
///
/// In `manual` listening the utterance is everything between `listen start` and `listen stop`; in
/// `auto` and `realtime` listening the ``UtteranceEndpointer`` (WebRTC's VAD) decides where
/// utterances begin and end. Every utterance's audio is fed to a ``SpeechRecognitionStream`` as it
/// arrives, so that when it ends only the recognizer's last step is left. Owned by the connection's
/// reader: one task uses it at a time.
final class VoiceListener {
    /// What pushing audio produced.
    enum Event: Sendable {
        /// Speech began (barge-in in `realtime` listening).
        case speechStarted
        /// An utterance ended: its recognition (to finish), the seconds of audio, and when its
        /// last speech was heard.
        case utterance(SpeechRecognitionStream, seconds: Double, speechEnded: ContinuousClock.Instant)
    }

    /// Why audio was refused.
    enum Refusal: Error, Sendable, CustomStringConvertible {
        case undecodable(String)
        case tooFast(ahead: Double)
        var description: String {
            switch self {
            case .undecodable(let reason): "undecodable audio: \(reason)"
            case .tooFast(let ahead): "audio arrives \(Int(ahead)) s faster than real time"
            }
        }
    }

    /// The rate audio is recognized at.
    static let sampleRate = SpeechRecognitionStream.sampleRate

    let format: VoiceAudioParams.Format
    /// How far ahead of real time a client may send (a device bursts its 2 s wake-word buffer).
    let allowedLead: Double
    private let speech: SpeechEngine
    private let maxUtteranceSeconds: Double
    private let decoder: OpusCodec?
    private let endpointer: UtteranceEndpointer
    private(set) var mode: VoiceClientMessage.Listen.Mode = .auto
    private(set) var isListening = false
    /// The utterance being recognized.
    private var recognition: SpeechRecognitionStream?
    private var utteranceSamples = 0
    private var lastSpeech: ContinuousClock.Instant?
    private var streamStart: ContinuousClock.Instant?
    private var streamSeconds = 0.0

    /// - Throws: ``SpeechError`` when the client's rate or frame duration is one Opus lacks, or the
    ///   VAD cannot start.
    init(params: VoiceAudioParams, speech: SpeechEngine, endpointing: UtteranceEndpointer.Settings, allowedLead: Double = 5) throws {
        format = params.knownFormat ?? .opus
        decoder = format == .opus ? try OpusCodec(sampleRate: params.sampleRate, frameMilliseconds: max(10, params.frameDuration)) : nil
        self.speech = speech
        endpointer = try UtteranceEndpointer(settings: endpointing)
        let maximum = endpointing.maximumLength.components
        maxUtteranceSeconds = Double(maximum.seconds) + Double(maximum.attoseconds) / 1e18
        self.allowedLead = allowedLead
    }

    deinit { recognition?.cancel() }

    /// Seconds of audio received since the connection began.
    var secondsReceived: Double { streamSeconds }

    /// `listen start`: a new utterance begins (in `manual` listening, right now).
    func start(mode: VoiceClientMessage.Listen.Mode) {
        drop()
        self.mode = mode
        isListening = true
        if mode == .manual { open() }
    }

    /// Audio is not wanted now (the client heard its wake word, or said stop): what was heard goes.
    func pause() {
        drop()
        isListening = false
    }

    /// Takes one frame's payload and returns what it completed.
    func push(_ payload: [UInt8], now: ContinuousClock.Instant = .now) async throws(Refusal) -> [Event] {
        let samples = try decode(payload)
        try account(samples.count, now: now)
        guard isListening else { return [] }
        if mode == .manual {
            lastSpeech = now
            await feed(samples)
            return []
        }
        var events = [Event]()
        for event in endpointer.push(samples) {
            switch event {
            case .speechStarted:
                open()
                events.append(.speechStarted)
            case .audio(let audio):
                await feed(audio)
            case .ended(let utterance):
                // The last voiced sample was heard as long before now as the audio after it lasts.
                let trailing = Double(endpointer.samplesProcessed - utterance.endSample) / Double(Self.sampleRate)
                let ended = now - .milliseconds(Int64(max(0, trailing) * 1000))
                if let recognition { events.append(.utterance(recognition, seconds: utterance.audioSeconds, speechEnded: ended)) }
                recognition = nil
            case .discarded:
                drop()
            }
        }
        return events
    }

    /// `listen stop`: in `manual` listening the utterance heard since `listen start` (nil when
    /// nothing was); in `auto` listening whatever utterance is under way ends here.
    func stop(now: ContinuousClock.Instant = .now) -> Event? {
        defer {
            drop()
            isListening = false
        }
        if mode != .manual {
            for case .ended(let utterance) in endpointer.finish() {
                guard let recognition else { break }
                self.recognition = nil
                return .utterance(recognition, seconds: utterance.audioSeconds, speechEnded: lastSpeech ?? now)
            }
            return nil
        }
        guard let recognition, utteranceSamples > 0 else { return nil }
        self.recognition = nil
        return .utterance(recognition, seconds: Double(utteranceSamples) / Double(Self.sampleRate), speechEnded: lastSpeech ?? now)
    }

    private func open() {
        recognition?.cancel()
        recognition = speech.openRecognitionStream(maxSeconds: maxUtteranceSeconds)
        utteranceSamples = 0
        lastSpeech = nil
    }

    private func drop() {
        recognition?.cancel()
        recognition = nil
        utteranceSamples = 0
        endpointer.reset()
    }

    private func feed(_ samples: [Int16]) async {
        guard let recognition else { return }
        utteranceSamples += samples.count
        await recognition.feed(samples)
    }

    private func decode(_ payload: [UInt8]) throws(Refusal) -> [Int16] {
        if let decoder {
            do {
                let decoded = try decoder.decode(packet: payload)
                guard decoder.sampleRate == Self.sampleRate else {
                    return try Resampler(quality: .fastest).resample(PCMAudio(samples: decoded, sampleRate: decoder.sampleRate), to: Self.sampleRate).samples
                }
                return decoded
            } catch {
                throw .undecodable("\(error)")
            }
        }
        guard payload.count % 2 == 0 else { throw .undecodable("a PCM16 frame of an odd number of bytes (\(payload.count))") }
        var samples = [Int16]()
        samples.reserveCapacity(payload.count / 2)
        var index = 0
        while index < payload.count {
            samples.append(Int16(bitPattern: UInt16(payload[index]) | UInt16(payload[index + 1]) << 8))
            index += 2
        }
        return samples
    }

    /// Counts the audio against real time: a client may not send faster than it speaks.
    private func account(_ samples: Int, now: ContinuousClock.Instant) throws(Refusal) {
        let start = streamStart ?? now
        streamStart = start
        streamSeconds += Double(samples) / Double(Self.sampleRate)
        let elapsed = now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if streamSeconds - wall > allowedLead { throw .tooFast(ahead: streamSeconds - wall) }
    }
}
