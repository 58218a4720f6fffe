// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// One utterance recognized by PocketSphinx while it is spoken, on a decoder held from a
/// ``PocketSphinxRecognizer``'s pool until ``finish()`` or ``cancel()`` (or until it is dropped).
///
/// The audio goes to the decoder in the blocks a whole recording is fed in (``PocketSphinxDecoder/blockSamples``
/// from the utterance's start), on the decoder's own thread, so the final text is the one
/// ``PocketSphinxRecognizer/transcribe(_:language:deadline:)`` gives for the same samples.
final class PocketSphinxLiveRecognition: LiveSpeechRecognition {
    /// Audio between two partial hypotheses: 200 ms.
    static let partialInterval = 3_200

    var provider: String { recognizer.name }

    private let recognizer: PocketSphinxRecognizer
    private let slot: Int
    private let session = Session()
    private let ended = Atomic<Bool>(false)

    /// What the decoder's thread keeps between calls.
    ///
    /// `@unchecked Sendable`: touched only on the slot's thread (a pool of one thread), one job after another.
    private final class Session: @unchecked Sendable {
        var utterance: PocketSphinxDecoder.Utterance?
        /// The start of the next block.
        var pending: [Int16] = []
        /// Samples fed since the last partial hypothesis.
        var sinceHypothesis = 0
        /// The utterance was ended (finished or abandoned).
        var closed = false
    }

    init(recognizer: PocketSphinxRecognizer, slot: Int) {
        self.recognizer = recognizer
        self.slot = slot
    }

    deinit {
        if !ended.load(ordering: .acquiring) { Self.release(recognizer, slot: slot, session: session) }
    }

    func feed(_ samples: [Int16]) async throws -> String? {
        let session = self.session
        return try await recognizer.onSlot(slot) { decoder -> String? in
            guard !session.closed else { throw CancellationError() }
            if session.utterance == nil { session.utterance = try decoder.startUtterance() }
            session.pending.append(contentsOf: samples)
            var start = 0
            while session.pending.count - start >= PocketSphinxDecoder.blockSamples {
                let end = start + PocketSphinxDecoder.blockSamples
                try session.pending.withUnsafeBufferPointer { try decoder.process(UnsafeBufferPointer(rebasing: $0[start..<end]), in: &session.utterance!) }
                start = end
            }
            session.pending.removeFirst(start)
            session.sinceHypothesis += samples.count
            guard start > 0, session.sinceHypothesis >= Self.partialInterval else { return nil }
            session.sinceHypothesis = 0
            return decoder.partialHypothesis()
        }
    }

    func finish() async throws -> String {
        let session = self.session
        do {
            return try await recognizer.onSlot(slot) { decoder -> String in
                guard !session.closed else { throw CancellationError() }
                if session.utterance == nil { session.utterance = try decoder.startUtterance() }
                if !session.pending.isEmpty {
                    try session.pending.withUnsafeBufferPointer { try decoder.process($0, in: &session.utterance!) }
                    session.pending.removeAll()
                }
                session.closed = true
                let text = decoder.endUtterance()
                // Given back before the caller hears of the text: the next utterance finds it free.
                if !self.ended.exchange(true, ordering: .acquiringAndReleasing) { self.recognizer.releaseLiveNow(self.slot) }
                return text
            }
        } catch {
            end()
            throw error
        }
    }

    func cancel() {
        end()
    }

    /// Gives the decoder back, once.
    private func end() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Self.release(recognizer, slot: slot, session: session)
    }

    /// Ends an utterance left open and gives the slot back, on the slot's thread after whatever
    /// is queued there.
    private static func release(_ recognizer: PocketSphinxRecognizer, slot: Int, session: Session) {
        recognizer.releaseLive(slot) { decoder in
            if let decoder, session.utterance != nil, !session.closed { decoder.abandonUtterance() }
            session.closed = true
        }
    }
}
