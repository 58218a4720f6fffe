// SPDX-License-Identifier: Apache-2.0
import Logging

/// Speaks an answer for a chat door: sentence by sentence through the ``SpeechEngine`` (so the
/// `cpu` lane bounds it), packed into WAV clips of at most ``VoiceReplySettings/maxClipSeconds``.
/// A sentence that alone runs longer is split at its commas or spaces and spoken in pieces.
///
/// When speech fails the answer goes out as text (and the failure is logged): a voice that cannot
/// be made never costs the user the answer.
public struct SpokenReplyComposer: Sendable {
    public let speech: SpeechEngine
    public let settings: VoiceReplySettings

    public init(speech: SpeechEngine, settings: VoiceReplySettings) {
        self.speech = speech
        self.settings = settings
    }

    /// The reply's parts for `answer`: `text` (the answer as text parts) followed by the clips, or
    /// the clips alone in ``VoiceReplySettings/Mode/voice`` mode; `text` when speech failed.
    func reply(to answer: String, text: [ReplyPart], logger: Logger) async -> [ReplyPart] {
        do {
            let clips = try await self.clips(for: answer)
            let audio = try clips.map { ReplyPart.audio(bytes: try SpeechAudio.encode($0, as: .wav), format: AudioFormat.wav.rawValue) }
            guard !audio.isEmpty else { return text }
            return settings.mode == .voice ? audio : text + audio
        } catch is CancellationError {
            return text
        } catch {
            logger.warning("answer not spoken; sent as text", metadata: ["error": "\(error)"])
            return text
        }
    }

    /// The answer as clips of samples, each at most ``VoiceReplySettings/maxClipSeconds`` long.
    public func clips(for answer: String) async throws -> [PCMAudio] {
        let spoken = SpeakableText.clean(answer)
        var accumulator = SentenceAccumulator()
        var sentences = accumulator.append(spoken)
        if let rest = accumulator.finish() { sentences.append(rest) }
        var pieces = [PCMAudio]()
        var budget = settings.maxClipSeconds * Double(settings.maxClips)
        for sentence in sentences where sentence.contains(where: { $0.isLetter || $0.isNumber }) {
            guard budget > 0 else { break }
            for piece in try await speak(sentence, depth: 0) {
                pieces.append(piece)
                budget -= piece.seconds
            }
        }
        return Array(Self.pack(pieces, maxSeconds: settings.maxClipSeconds).prefix(settings.maxClips))
    }

    /// `text` as samples in pieces of at most the clip length: split in two at a comma or space and
    /// spoken again while too long (three times at most; then cut by ``pack(_:maxSeconds:)``).
    private func speak(_ text: String, depth: Int) async throws -> [PCMAudio] {
        let routed = try await speech.synthesize(SpeechRequest(text: text, voice: settings.voice, format: .wav))
        let pcm = try SpeechAudio.pcm(from: routed.speech)
        guard pcm.seconds > settings.maxClipSeconds, depth < 3 else { return [pcm] }
        let halves = TextSplitter.split(text, limit: max(1, text.count / 2 + 1))
        guard halves.count > 1 else { return [pcm] }
        var pieces = [PCMAudio]()
        for half in halves { pieces += try await speak(half, depth: depth + 1) }
        return pieces
    }

    /// Joins consecutive pieces of the same rate and channels while the clip stays within
    /// `maxSeconds`; a piece longer than that is cut into clips of `maxSeconds`.
    static func pack(_ pieces: [PCMAudio], maxSeconds: Double) -> [PCMAudio] {
        var clips = [PCMAudio]()
        for piece in pieces where piece.frameCount > 0 {
            let limit = max(1, Int(maxSeconds * Double(piece.sampleRate))) * piece.channels
            if var last = clips.last, last.sampleRate == piece.sampleRate, last.channels == piece.channels,
                last.samples.count + piece.samples.count <= limit
            {
                last.samples += piece.samples
                clips[clips.count - 1] = last
                continue
            }
            var start = 0
            while start < piece.samples.count {
                let end = min(piece.samples.count, start + limit)
                clips.append(PCMAudio(samples: Array(piece.samples[start..<end]), sampleRate: piece.sampleRate, channels: piece.channels))
                start = end
            }
        }
        return clips
    }
}
