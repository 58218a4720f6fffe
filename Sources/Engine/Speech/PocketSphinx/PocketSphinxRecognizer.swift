// SPDX-License-Identifier: Apache-2.0
import NIOPosix
import Synchronization

/// Speech recognition in process with PocketSphinx (the Debian 12 "5prealpha" library), US English only.
///
/// A bounded pool of ``PocketSphinxConfiguration/poolSize`` decoders, each with a thread of its
/// own (never Swift's cooperative pool: a recognition blocks for about real time / 5), loaded on
/// first use or by ``prepare()``. Whole recordings (``transcribe(_:language:deadline:)``) are
/// decoded (``AudioDecoder``), mixed down to mono, resampled to 16 kHz (``Resampler``) and fed to
/// a free decoder; up to ``PocketSphinxConfiguration/maxWaiting`` more recognitions wait for one,
/// and beyond that a request fails at once with a `busy` ``SpeechError``: a speech router tries the
/// next provider without counting it against this one.
///
/// A live recognition (``SpeechEngine/openRecognitionStream(language:maxSeconds:)``) holds a
/// decoder for one utterance and feeds it as the audio arrives, on that decoder's thread; it
/// never waits for one: with every decoder taken it is not started, and the stream falls back to
/// recognizing the whole utterance at its end.
///
/// A language other than English is `unsupported` (another provider may do it). A deadline is
/// checked when the job starts and before every 128 ms block of audio, throwing `timeout`; task
/// cancellation is checked at the same points and while waiting for a decoder. Raw `.pcm` input
/// without a known rate is taken as 16 kHz mono, the voice door's uplink.
///
/// ```swift
/// let asr = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: grammar)))
/// let transcript = try await asr.transcribe(.encoded(wav, format: .wav), language: "en", deadline: .now + .seconds(10))
/// ```
public final class PocketSphinxRecognizer: SpeechRecognizer {
    public let configuration: PocketSphinxConfiguration
    public var name: String { configuration.name }

    private let slots: [DecoderSlot]
    private let state: Mutex<PoolState>
    private let decoder: AudioDecoder
    private let resampler = Resampler(quality: .fastest)

    private struct PoolState {
        /// Slots (indices) nobody holds, the most recently used last.
        var free: [Int]
        /// Slots whose decoder has been loaded.
        var loaded: Set<Int> = []
        /// Recognitions waiting for a slot, first come first served.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Int, any Error>)] = []
        /// Waiters cancelled before they were queued.
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiterID: UInt64 = 0
        /// Whole-recording recognitions running or waiting.
        var admitted = 0
        /// Live recognitions holding a slot.
        var live = 0

        /// Takes a free slot: the most recently used (its decoder is loaded if any free one's is),
        /// or the first one not loaded.
        mutating func takeFree(preferringUnloaded: Bool) -> Int? {
            if preferringUnloaded, let position = free.firstIndex(where: { !loaded.contains($0) }) { return free.remove(at: position) }
            return free.popLast()
        }
    }

    public init(_ configuration: PocketSphinxConfiguration = PocketSphinxConfiguration()) {
        self.configuration = configuration
        decoder = AudioDecoder(limits: configuration.limits)
        slots = (0..<configuration.poolSize).map { _ in DecoderSlot() }
        state = Mutex(PoolState(free: Array(slots.indices.reversed())))
    }

    deinit {
        // Jobs and live recognitions hold the recognizer, so none is running; the threads end on their own.
        for slot in slots { slot.thread.shutdownGracefully { _ in } }
    }

    /// Loads the pool's decoders now (a quarter to half a second each, one after another)
    /// rather than on first use, which also checks the model and the search.
    /// - Throws: ``SpeechError`` of kind `notConfigured`.
    public func prepare() async throws {
        // Each turn takes a slot whose decoder is not loaded while there is one; a slot someone
        // holds meanwhile is loaded by its holder.
        for _ in slots.indices {
            let index = try await acquire(preferringUnloaded: true)
            defer { release(index) }
            try await slots[index].thread.runIfActive { _ = try self.loadedDecoder(in: index) }
        }
    }

    public func transcribe(_ audio: AudioInput, language: String?, deadline: ContinuousClock.Instant?) async throws -> Transcript {
        try checkLanguage(language)
        if let deadline, ContinuousClock.now >= deadline {
            throw SpeechError.timeout("the deadline passed before recognition started")
        }
        try admit()
        defer { state.withLock { $0.admitted -= 1 } }
        let index = try await acquire(until: deadline)
        defer { release(index) }
        let stop = RecognitionStopFlag()
        return try await withTaskCancellationHandler {
            try await slots[index].thread.runIfActive { try self.recognize(audio, slot: index, deadline: deadline, stop: stop) }
        } onCancel: {
            stop.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// Recognitions of whole recordings running or waiting now.
    public var load: Int { state.withLock { $0.admitted } }

    /// Live recognitions holding a decoder now.
    public var liveRecognitions: Int { state.withLock { $0.live } }

    /// Loaded decoders nobody holds.
    var idleDecoders: Int { state.withLock { state in state.free.filter { state.loaded.contains($0) }.count } }

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

    private func checkLanguage(_ language: String?) throws {
        if let language, !Self.isEnglish(language) {
            throw SpeechError.unsupported("\(name) recognizes English only, not \"\(language)\"")
        }
    }

    static func isEnglish(_ language: String) -> Bool {
        let code = language.lowercased()
        return code == "en" || code.hasPrefix("en-") || code.hasPrefix("en_")
    }

    // MARK: - Slots

    /// A slot for this task, waiting for one in turn when all are held. A free slot with a loaded
    /// decoder is taken first, unless `preferringUnloaded`.
    private func acquire(preferringUnloaded: Bool = false) async throws -> Int {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let outcome = state.withLock { state -> Result<Int, any Error>? in
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    // Free slots exist only while nobody waits.
                    if let index = state.takeFree(preferringUnloaded: preferringUnloaded) { return .success(index) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
                guard let position = state.waiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelledWaiters.insert(id)
                    return nil
                }
                return state.waiters.remove(at: position).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// A slot, waiting no later than `deadline` (live recognitions may hold every decoder for
    /// as long as their utterances last).
    /// - Throws: ``SpeechError`` of kind `busy` when the deadline comes first (another provider
    ///   may have room, and this one is not at fault), `CancellationError`.
    private func acquire(until deadline: ContinuousClock.Instant?) async throws -> Int {
        guard let deadline else { return try await acquire() }
        let slot = try await withThrowingTaskGroup(of: Int?.self) { group -> Int? in
            group.addTask { try await self.acquire() }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            if let index = try await group.next() ?? nil { return index }
            // The deadline came first; a slot handed over meanwhile goes back.
            group.cancelAll()
            while let next = try? await group.next() {
                if let index = next { release(index) }
            }
            return nil
        }
        guard let slot else {
            try Task.checkCancellation()
            throw SpeechError.busy("no decoder of \(name) came free before the deadline")
        }
        return slot
    }

    /// A free slot now, or nil when all are held.
    private func tryAcquire() -> Int? {
        state.withLock { $0.takeFree(preferringUnloaded: false) }
    }

    /// Gives a slot back: to the first waiter, else to the free ones.
    private func release(_ index: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.free.append(index)
            return nil
        }
        waiter?.resume(returning: index)
    }

    /// The decoder of slot `index`, loaded now when it is not yet. On the slot's thread only.
    private func loadedDecoder(in index: Int) throws -> PocketSphinxDecoder {
        if let decoder = slots[index].decoder { return decoder }
        let decoder = try PocketSphinxDecoder(configuration)
        slots[index].decoder = decoder
        state.withLock { _ = $0.loaded.insert(index) }
        return decoder
    }

    // MARK: - On a slot's thread

    private func recognize(_ input: AudioInput, slot index: Int, deadline: ContinuousClock.Instant?, stop: RecognitionStopFlag) throws -> Transcript {
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
        let text = try loadedDecoder(in: index).recognize(mono.samples, shouldStop: shouldStop)
        return Transcript(text: text, language: "en", duration: audio.seconds)
    }

    // MARK: - Live

    /// A live recognition of one utterance on a free decoder; nil when every decoder is held.
    /// - Throws: ``SpeechError`` of kind `unsupported` for a language other than English.
    func startLiveRecognition(language: String?) throws -> (any LiveSpeechRecognition)? {
        try checkLanguage(language)
        guard let index = tryAcquire() else { return nil }
        state.withLock { $0.live += 1 }
        return PocketSphinxLiveRecognition(recognizer: self, slot: index)
    }

    /// Runs `body` with slot `index`'s decoder on its thread.
    func onSlot<T: Sendable>(_ index: Int, _ body: @escaping @Sendable (PocketSphinxDecoder) throws -> T) async throws -> T {
        try await slots[index].thread.runIfActive { try body(try self.loadedDecoder(in: index)) }
    }

    /// Runs `body` with slot `index`'s decoder (nil when it never loaded) on its thread, without
    /// waiting and even when the caller is cancelled, then gives the slot back: the end of a live
    /// recognition.
    func releaseLive(_ index: Int, _ body: @escaping @Sendable (PocketSphinxDecoder?) -> Void) {
        slots[index].thread.submit { _ in
            body(self.slots[index].decoder)
            self.releaseLiveNow(index)
        }
    }

    /// Gives back slot `index`, held by a live recognition that is done with it; on the slot's
    /// thread, at the end of the recognition's last job.
    func releaseLiveNow(_ index: Int) {
        state.withLock { $0.live -= 1 }
        release(index)
    }
}

/// One decoder's place in the pool: its thread, and the decoder once loaded.
///
/// `@unchecked Sendable`: `decoder` is read and written only on `thread` (a pool of one), and the
/// slot is held by one recognition at a time.
private final class DecoderSlot: @unchecked Sendable {
    let thread: NIOThreadPool
    var decoder: PocketSphinxDecoder?

    init() {
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }
}

/// Set from any thread to stop a recognition between blocks.
final class RecognitionStopFlag: Sendable {
    let cancelled = Atomic<Bool>(false)
}
