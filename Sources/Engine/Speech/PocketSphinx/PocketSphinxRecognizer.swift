// SPDX-License-Identifier: Apache-2.0
import NIOPosix
import Synchronization

/// Speech recognition in process with PocketSphinx (the Debian 12 "5prealpha" library), US English only.
///
/// The audio is decoded (``AudioDecoder``), mixed down to mono, resampled to 16 kHz
/// (``Resampler``) and fed to a decoder from a bounded pool: ``PocketSphinxConfiguration/poolSize``
/// decoders, each used by one recognition at a time on a thread of the recognizer's own (never
/// Swift's cooperative pool: a recognition blocks for about real time / 5). Up to
/// ``PocketSphinxConfiguration/maxWaiting`` more recognitions queue for a decoder; beyond that a
/// request fails at once with a `busy` ``SpeechError``: a speech router tries the next provider
/// without counting it against this one.
///
/// A language other than English is `unsupported` (another provider may do it). A deadline is
/// checked when the job starts and before every 128 ms block of audio, throwing `timeout`; task
/// cancellation is checked at the same points. Raw `.pcm` input without a known rate is taken as
/// 16 kHz mono, the voice door's uplink.
///
/// ```swift
/// let asr = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: grammar)))
/// let transcript = try await asr.transcribe(.encoded(wav, format: .wav), language: "en", deadline: .now + .seconds(10))
/// ```
public final class PocketSphinxRecognizer: SpeechRecognizer {
    public let configuration: PocketSphinxConfiguration
    public var name: String { configuration.name }

    private let threads: NIOThreadPool
    private let state = Mutex(PoolState())
    private let decoder: AudioDecoder
    private let resampler = Resampler(quality: .fastest)

    private struct PoolState {
        /// Loaded decoders not in use.
        var idle: [PocketSphinxDecoder] = []
        /// Decoders taken by recognitions.
        var inUse = 0
        /// Recognitions running or queued.
        var admitted = 0
    }

    public init(_ configuration: PocketSphinxConfiguration = PocketSphinxConfiguration()) {
        self.configuration = configuration
        decoder = AudioDecoder(limits: configuration.limits)
        threads = NIOThreadPool(numberOfThreads: configuration.poolSize)
        threads.start()
    }

    deinit {
        // Jobs hold the recognizer, so none is running; the pool's threads end on their own.
        threads.shutdownGracefully { _ in }
    }

    /// Loads the pool's decoders now (a quarter to half a second each, one after another)
    /// rather than on first use, which also checks the model and the search.
    /// - Throws: ``SpeechError`` of kind `notConfigured`.
    public func prepare() async throws {
        try await threads.runIfActive {
            let missing = self.configuration.poolSize - self.state.withLock { $0.idle.count + $0.inUse }
            for _ in 0..<max(0, missing) { self.keep(try PocketSphinxDecoder(self.configuration), returning: false) }
        }
    }

    public func transcribe(_ audio: AudioInput, language: String?, deadline: ContinuousClock.Instant?) async throws -> Transcript {
        if let language, !Self.isEnglish(language) {
            throw SpeechError.unsupported("\(name) recognizes English only, not \"\(language)\"")
        }
        if let deadline, ContinuousClock.now >= deadline {
            throw SpeechError.timeout("the deadline passed before recognition started")
        }
        try admit()
        defer { state.withLock { $0.admitted -= 1 } }
        let stop = RecognitionStopFlag()
        return try await withTaskCancellationHandler {
            try await threads.runIfActive { try self.recognize(audio, deadline: deadline, stop: stop) }
        } onCancel: {
            stop.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// Recognitions running or waiting now.
    public var load: Int { state.withLock { $0.admitted } }

    /// Loaded decoders waiting for work.
    var idleDecoders: Int { state.withLock { $0.idle.count } }

    // MARK: - Admission

    private func admit() throws {
        let limit = configuration.poolSize + configuration.maxWaiting
        let admitted = state.withLock { state -> Bool in
            guard state.admitted < limit else { return false }
            state.admitted += 1
            return true
        }
        guard admitted else {
            throw SpeechError.busy("\(configuration.poolSize) recognitions running and \(configuration.maxWaiting) waiting in \(name)")
        }
    }

    static func isEnglish(_ language: String) -> Bool {
        let code = language.lowercased()
        return code == "en" || code.hasPrefix("en-") || code.hasPrefix("en_")
    }

    // MARK: - On a pool thread

    private func recognize(_ input: AudioInput, deadline: ContinuousClock.Instant?, stop: RecognitionStopFlag) throws -> Transcript {
        let shouldStop = { () -> (any Error)? in
            if stop.cancelled.load(ordering: .relaxed) { return CancellationError() }
            if let deadline, ContinuousClock.now >= deadline { return SpeechError.timeout("\(self.name) stopped at the deadline") }
            return nil
        }
        if let error = shouldStop() { throw error }
        let audio: PCMAudio
        switch input {
        case .encoded(let bytes, let format):
            audio = try decoder.decode(bytes, format: format, rawSampleRate: PocketSphinxDecoder.sampleRate)
        case .pcm(let samples):
            try configuration.limits.check(samples)
            audio = samples
        }
        let mono = try resampler.resample(audio.downmixedToMono(), to: PocketSphinxDecoder.sampleRate)
        if let error = shouldStop() { throw error }
        let decoder = try takeDecoder()
        defer { giveBack(decoder) }
        let text = try decoder.recognize(mono.samples, shouldStop: shouldStop)
        return Transcript(text: text, language: "en", duration: audio.seconds)
    }

    /// An idle decoder, or a new one. Only `poolSize` threads take decoders, so no more are in
    /// use at once; one made while ``prepare()`` was loading is dropped when given back.
    private func takeDecoder() throws -> PocketSphinxDecoder {
        let idle = state.withLock { state -> PocketSphinxDecoder? in
            state.inUse += 1
            return state.idle.popLast()
        }
        if let idle { return idle }
        do {
            return try PocketSphinxDecoder(configuration)
        } catch {
            state.withLock { $0.inUse -= 1 }
            throw error
        }
    }

    /// Returns a decoder taken with ``takeDecoder()``.
    private func giveBack(_ decoder: PocketSphinxDecoder) {
        keep(decoder, returning: true)
    }

    /// Puts `decoder` with the idle ones, unless the pool is full without it.
    private func keep(_ decoder: PocketSphinxDecoder, returning: Bool) {
        state.withLock { state in
            if returning { state.inUse -= 1 }
            if state.idle.count + state.inUse < configuration.poolSize { state.idle.append(decoder) }
        }
    }
}

/// Set from any thread to stop a recognition between blocks.
final class RecognitionStopFlag: Sendable {
    let cancelled = Atomic<Bool>(false)
}
