// SPDX-License-Identifier: Apache-2.0

/// A recognizer that can recognize an utterance while it is spoken (PocketSphinx in process).
/// Others are given the whole utterance at its end.
protocol LiveSpeechRecognizer: SpeechRecognizer {
    /// A recognition of one utterance, fed as it arrives; nil when there is no room for one now
    /// (every decoder is taken). Never waits.
    /// - Throws: ``SpeechError`` of kind `unsupported` for a language it lacks.
    func startLiveRecognition(language: String?) throws -> (any LiveSpeechRecognition)?
    /// Loads what recognition needs now rather than in the first utterance a user waits for.
    func prepare() async throws
}

/// One utterance being recognized as it is spoken. Calls come one at a time, in order.
protocol LiveSpeechRecognition: Sendable {
    /// The recognizer's name.
    var provider: String { get }
    /// Recognizes `samples` (16 kHz mono) after what came before; a new partial hypothesis now
    /// and then (about every 200 ms of audio), else nil.
    func feed(_ samples: [Int16]) async throws -> String?
    /// The transcript of everything fed. Frees the recognizer's resources, also when it throws.
    func finish() async throws -> String
    /// Drops the utterance and frees the recognizer's resources; later calls fail. Never waits.
    func cancel()
}

extension PocketSphinxRecognizer: LiveSpeechRecognizer {}
