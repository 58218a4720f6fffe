// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// An answer to read as it comes: the engine writes its parts in, one reader takes them out.
///
/// The buffer is bounded: when the reader falls `capacity` parts behind, the turn waits for it
/// (so a slow HTTP client slows only its own answer). A reader that stops early calls
/// ``cancel()``: the turn is cancelled (its upstream request ends at once), or taken out of its
/// session's queue if it had not started. The sequence ends after the terminal part.
///
/// ```swift
/// let (admission, answer) = engine.answer(event, showsProgress: true)
/// for await part in answer { if case .delta(let text) = part { try await write(text) } }
/// ```
public final class AnswerStream: AnswerSink, AsyncSequence {
    public typealias Element = AnswerPart

    /// The reader stopped reading; the turn should end.
    public struct Abandoned: Error {}

    private struct State {
        var parts = CircularBuffer<AnswerPart>()
        var reader: CheckedContinuation<AnswerPart?, Never>?
        var writer: CheckedContinuation<Void, Never>?
        /// The terminal part has been written.
        var ended = false
        /// The reader cancelled.
        var abandoned = false
        var onCancel: (@Sendable () async -> Void)?
    }

    public let showsProgress: Bool
    public let wantsSentences: Bool
    /// Most parts held before the writer waits.
    public let capacity: Int
    private let state = Mutex(State())

    public init(showsProgress: Bool, wantsSentences: Bool = false, capacity: Int = 64) {
        self.showsProgress = showsProgress
        self.wantsSentences = showsProgress && wantsSentences
        self.capacity = Swift.max(1, capacity)
    }

    /// What ``cancel()`` does besides ending the stream; set by the engine before it hands the
    /// stream to the door.
    func whenCancelled(_ action: @escaping @Sendable () async -> Void) {
        state.withLock { $0.onCancel = action }
    }

    /// Ends the stream with no part (an event that will get no answer).
    func close() {
        state.withLock { $0.ended = true }
    }

    /// Ends the stream with `part` at once, without waiting for room (a refusal's notice: it must
    /// arrive even when every lane is full).
    func end(with part: AnswerPart) {
        let reader = state.withLock { state -> CheckedContinuation<AnswerPart?, Never>? in
            guard !state.ended, !state.abandoned else { return nil }
            state.ended = true
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.parts.append(part)
            return nil
        }
        reader?.resume(returning: part)
    }

    // MARK: Writing (the engine)

    public func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        while true {
            enum Step { case stored(CheckedContinuation<AnswerPart?, Never>?), full, gone }
            let step = state.withLock { state -> Step in
                if state.abandoned || state.ended { return .gone }
                if let reader = state.reader {
                    state.reader = nil
                    state.ended = part.isTerminal
                    return .stored(reader)
                }
                guard state.parts.count < capacity || part.isTerminal else { return .full }
                state.parts.append(part)
                state.ended = part.isTerminal
                return .stored(nil)
            }
            switch step {
            case .stored(let reader):
                reader?.resume(returning: part)
                return []
            case .gone:
                throw Abandoned()
            case .full:
                try await waitForRoom()
            }
        }
    }

    private func waitForRoom() async throws {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.abandoned || state.parts.count < capacity || Task.isCancelled { return true }
                    state.writer = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.writer = nil }
                return state.writer
            }?.resume()
        }
        try Task.checkCancellation()
    }

    // MARK: Reading (the door)

    /// The next part; nil after the terminal part, or once cancelled.
    public func next() async -> AnswerPart? {
        await withTaskCancellationHandler {
            await take()
        } onCancel: {
            state.withLock { state in
                defer { state.reader = nil }
                return state.reader
            }?.resume(returning: nil)
        }
    }

    private func take() async -> AnswerPart? {
        await withCheckedContinuation { (continuation: CheckedContinuation<AnswerPart?, Never>) in
            enum Step { case part(AnswerPart, CheckedContinuation<Void, Never>?), finished, wait }
            let step = state.withLock { state -> Step in
                if state.abandoned { return .finished }
                if let part = state.parts.popFirst() {
                    defer { state.writer = nil }
                    return .part(part, state.writer)
                }
                if state.ended || state.abandoned || Task.isCancelled { return .finished }
                state.reader = continuation
                return .wait
            }
            switch step {
            case .part(let part, let writer):
                writer?.resume()
                continuation.resume(returning: part)
            case .finished:
                continuation.resume(returning: nil)
            case .wait:
                break
            }
        }
    }

    /// Stops reading: the turn behind the answer is cancelled, or dropped if it has not started.
    public func cancel() async {
        let (onCancel, reader, writer) = state.withLock { state in
            guard !state.abandoned else { return ((@Sendable () async -> Void)?.none, CheckedContinuation<AnswerPart?, Never>?.none, CheckedContinuation<Void, Never>?.none) }
            state.abandoned = true
            defer {
                state.reader = nil
                state.writer = nil
                state.onCancel = nil
            }
            return (state.ended ? nil : state.onCancel, state.reader, state.writer)
        }
        reader?.resume(returning: nil)
        writer?.resume()
        await onCancel?()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: AnswerStream
        public mutating func next() async -> AnswerPart? { await stream.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
