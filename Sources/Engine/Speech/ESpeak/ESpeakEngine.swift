// SPDX-License-Identifier: Apache-2.0
import CEspeakNG
import NIOPosix
import Synchronization

/// The process's one espeak-ng: its API keeps all state in globals (voice, rate, callback), so
/// every call runs on one thread of its own, one synthesis after another, off Swift's cooperative
/// pool (a synthesis blocks for up to seconds).
final class ESpeakEngine: Sendable {
    static let shared = ESpeakEngine()

    /// What to synthesize; run on the engine's thread.
    struct Job: Sendable {
        var text: String
        var voice: String
        /// Words per minute (espeak's 80…450).
        var rate: Int
        /// 0…100, 50 is espeak's normal.
        var pitch: Int
        var deadline: ContinuousClock.Instant?
        /// Called on the engine's thread with each block of samples as it is made.
        var onAudio: (@Sendable (PCMAudio) -> Void)?
    }

    /// One thread; never shut down, as the engine lives as long as the process.
    private let thread: NIOThreadPool
    /// espeak's sample rate once initialized; touched only on `thread`.
    private let sampleRate = Mutex<Int?>(nil)

    private init() {
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// Synthesizes `job` when the thread is free. Cancelling the task stops espeak at its next
    /// block of samples (throwing `CancellationError`); so does passing the deadline (`timeout`).
    func synthesize(_ job: Job) async throws -> PCMAudio {
        let stop = ESpeakStopFlag()
        return try await withTaskCancellationHandler {
            try await thread.runIfActive { try self.run(job, stop: stop) }
        } onCancel: {
            stop.cancelled.store(true, ordering: .relaxed)
        }
    }

    // MARK: - On the engine's thread

    private func run(_ job: Job, stop: ESpeakStopFlag) throws -> PCMAudio {
        if stop.cancelled.load(ordering: .relaxed) { throw CancellationError() }
        if let deadline = job.deadline, ContinuousClock.now >= deadline {
            throw SpeechError.timeout("the deadline passed before espeak-ng could start")
        }
        let rate = try initialize()
        guard job.voice.utf8.allSatisfy({ $0 > 32 && $0 < 127 }), espeak_SetVoiceByName(job.voice) == EE_OK else {
            throw SpeechError.unsupported("espeak-ng has no voice \"\(job.voice)\"")
        }
        espeak_SetParameter(espeakRATE, Int32(job.rate), 0)
        espeak_SetParameter(espeakPITCH, Int32(job.pitch), 0)
        let collector = ESpeakCollector(sampleRate: rate, deadline: job.deadline, stop: stop, onAudio: job.onAudio)
        let result = withExtendedLifetime(collector) {
            job.text.withCString { text in
                espeak_Synth(
                    text, job.text.utf8.count + 1, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil,
                    Unmanaged.passUnretained(collector).toOpaque())
            }
        }
        switch collector.stopped {
        case .cancelled: throw CancellationError()
        case .deadline: throw SpeechError.timeout("espeak-ng was stopped at the deadline")
        case nil: break
        }
        guard result == EE_OK else { throw SpeechError.malformed("espeak-ng failed (error \(result.rawValue))") }
        return PCMAudio(samples: collector.samples, sampleRate: rate, channels: 1)
    }

    /// Initializes espeak-ng once (synchronous output, samples to the callback) and returns its
    /// sample rate, 22,050 Hz.
    private func initialize() throws -> Int {
        if let rate = sampleRate.withLock({ $0 }) { return rate }
        // DONT_EXIT: without it espeak-ng calls exit() when its data is missing.
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nil, Int32(espeakINITIALIZE_DONT_EXIT))
        guard rate > 0 else {
            throw SpeechError(kind: .notConfigured, message: "espeak-ng could not start (its data is missing?)")
        }
        espeak_SetSynthCallback { samples, count, events in
            guard let userData = events?.pointee.user_data else { return 0 }
            return Unmanaged<ESpeakCollector>.fromOpaque(userData).takeUnretainedValue().receive(samples, count: Int(count))
        }
        sampleRate.withLock { $0 = Int(rate) }
        return Int(rate)
    }
}

/// Set from any thread to stop a synthesis.
final class ESpeakStopFlag: Sendable {
    let cancelled = Atomic<Bool>(false)
}

/// Gathers one synthesis's samples on the engine's thread; espeak's callback finds it through `user_data`.
private final class ESpeakCollector {
    enum Stop { case cancelled, deadline }

    private let sampleRate: Int
    private let deadline: ContinuousClock.Instant?
    private let stop: ESpeakStopFlag
    private let onAudio: (@Sendable (PCMAudio) -> Void)?
    private(set) var samples: [Int16] = []
    private(set) var stopped: Stop?

    init(sampleRate: Int, deadline: ContinuousClock.Instant?, stop: ESpeakStopFlag, onAudio: (@Sendable (PCMAudio) -> Void)?) {
        self.sampleRate = sampleRate
        self.deadline = deadline
        self.stop = stop
        self.onAudio = onAudio
    }

    /// Takes a block; returns 1 to make espeak stop (cancelled or past the deadline), else 0.
    func receive(_ block: UnsafeMutablePointer<Int16>?, count: Int) -> Int32 {
        if let block, count > 0 {
            let received = UnsafeBufferPointer(start: block, count: count)
            samples.append(contentsOf: received)
            onAudio?(PCMAudio(samples: Array(received), sampleRate: sampleRate, channels: 1))
        }
        if stop.cancelled.load(ordering: .relaxed) {
            stopped = .cancelled
            return 1
        }
        if let deadline, ContinuousClock.now >= deadline {
            stopped = .deadline
            return 1
        }
        return 0
    }
}
