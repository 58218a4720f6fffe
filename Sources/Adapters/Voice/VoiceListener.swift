// SPDX-License-Identifier: Apache-2.0
import Engine

/// The microphone side of one voice connection: the client's audio frames in (Opus packets or
/// 16 kHz PCM16), utterances out.
///
/// In `manual` listening the utterance is everything between `listen start` and `listen stop`; in
/// `auto` and `realtime` listening the endpointer decides where utterances begin and end. Owned by
/// the connection's reader: one task uses it at a time.
final class VoiceListener {
    /// What pushing audio produced.
    enum Event: Sendable {
        /// Speech began (barge-in in `realtime` listening).
        case speechStarted
        /// An utterance ended: its audio, and when its last speech was heard.
        case utterance(PCMAudio, speechEnded: ContinuousClock.Instant)
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
    static let sampleRate = 16_000

    let format: VoiceAudioParams.Format
    let maxUtteranceSamples: Int
    /// How far ahead of real time a client may send (a device bursts its 2 s wake-word buffer).
    let allowedLead: Double
    private let decoder: OpusCodec?
    private(set) var mode: VoiceClientMessage.Listen.Mode = .auto
    private(set) var isListening = false
    private var utterance = [Int16]()
    private var lastSpeech: ContinuousClock.Instant?
    private var streamStart: ContinuousClock.Instant?
    private var streamSeconds = 0.0

    /// - Throws: ``SpeechError`` when the client's rate or frame duration is one Opus lacks.
    init(params: VoiceAudioParams, maxUtterance: Duration, allowedLead: Double = 5) throws {
        format = params.knownFormat ?? .opus
        decoder = format == .opus ? try OpusCodec(sampleRate: params.sampleRate, frameMilliseconds: max(10, params.frameDuration)) : nil
        maxUtteranceSamples = Int(Double(Self.sampleRate) * Double(maxUtterance.components.seconds))
        self.allowedLead = allowedLead
    }

    /// Seconds of audio received since the connection began.
    var secondsReceived: Double { streamSeconds }

    /// `listen start`: a new utterance begins.
    func start(mode: VoiceClientMessage.Listen.Mode) {
        self.mode = mode
        isListening = true
        utterance.removeAll(keepingCapacity: true)
        lastSpeech = nil
    }

    /// Audio is not wanted now (an answer began in `auto` listening, or the client said stop).
    func pause() {
        isListening = false
        utterance.removeAll(keepingCapacity: true)
    }

    /// Takes one frame's payload and returns what it completed.
    func push(_ payload: [UInt8], now: ContinuousClock.Instant = .now) throws(Refusal) -> [Event] {
        let samples = try decode(payload)
        try account(samples.count, now: now)
        guard isListening else { return [] }
        if utterance.count + samples.count <= maxUtteranceSamples {
            utterance += samples
            lastSpeech = now
        }
        return []
    }

    /// `listen stop`: the utterance heard since `listen start`, or nil when nothing was heard.
    func stop(now: ContinuousClock.Instant = .now) -> Event? {
        defer { pause() }
        guard !utterance.isEmpty else { return nil }
        return .utterance(PCMAudio(samples: utterance, sampleRate: Self.sampleRate), speechEnded: lastSpeech ?? now)
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
