// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Speech for every door: synthesis and recognition through their routers, run in the `cpu` lane
/// so that speech work is bounded on its own and never delays chat turns (the `realtime` lane).
///
/// A full lane refuses at once with ``SpeechError/Kind/busy`` (the API answers 429 with
/// `Retry-After`, a chat gets its text without the voice). A caller that goes away before its job
/// starts leaves no work behind; one that goes away later cancels the job's provider call.
public final class SpeechEngine: Sendable {
    public let synthesis: SpeechSynthesisRouter
    public let recognition: SpeechRecognitionRouter
    /// The `cpu` lane.
    public let lane: Lane

    public init(synthesis: SpeechSynthesisRouter, recognition: SpeechRecognitionRouter, lane: Lane) {
        self.synthesis = synthesis
        self.recognition = recognition
        self.lane = lane
    }

    /// Synthesizes `request` with the first provider that can.
    public func synthesize(_ request: SpeechRequest) async throws -> SpeechSynthesisRouter.Routed {
        try await inLane { try await self.synthesis.synthesize(request) }
    }

    /// Recognizes `audio` with the first provider that can.
    public func transcribe(_ audio: AudioInput, language: String? = nil) async throws -> SpeechRecognitionRouter.Routed {
        try await inLane { try await self.recognition.transcribe(audio, language: language) }
    }

    /// Runs `work` as a job of the lane and returns its result; the caller's cancellation reaches it.
    private func inLane<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let job = LaneJob<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                job.attach(continuation)
                let accepted = lane.submit {
                    await job.run(work)
                }
                if !accepted { job.finish(.failure(SpeechError.busy("the \(self.lane.name) lane is full; try again shortly"))) }
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// One speech job handed to the lane: its caller's continuation, and the task running it once
/// started, so that the caller's cancellation reaches whichever exists.
private final class LaneJob<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let cancelled = state.withLock { state in
            state.continuation = continuation
            return state.cancelled
        }
        if cancelled { finish(.failure(CancellationError())) }
    }

    func run(_ work: @escaping @Sendable () async throws -> T) async {
        // The caller went away while the job waited: nothing to do.
        if state.withLock({ $0.cancelled }) { return }
        // Its own task, so that cancelling it cannot reach the lane's job group.
        let task = Task {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            self.finish(result)
        }
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
        await task.value
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        if let task {
            task.cancel()
        } else {
            finish(.failure(CancellationError()))
        }
    }

    /// Resumes the caller once (later calls do nothing).
    func finish(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}
