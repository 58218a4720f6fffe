// SPDX-License-Identifier: Apache-2.0
import Engine
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

extension StreamingASRDoor {
    /// Runs one stream until it ends. Three tasks: the reader takes the client's frames through
    /// the endpointer and feeds the recognizer; the writer sends the messages in order, finishing
    /// each ended utterance's recognition first (so the reader never waits for one); the watchdog
    /// closes an idle stream. A client that closes gets nothing more (the recognitions still
    /// under way are cancelled): one that wants the last `final` sends `{"type":"end"}` and waits for it.
    public func serve(_ accepted: Accepted, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let endpointer: UtteranceEndpointer
        do {
            endpointer = try UtteranceEndpointer(settings: settings.endpointer)
        } catch {
            logger.error("no voice activity detector; stream refused", metadata: ["error": "\(error)"])
            try await outbound.close(.unexpectedServerError, reason: "voice activity detection unavailable")
            return
        }
        updateStats {
            $0.sessions += 1
            $0.active += 1
        }
        defer { updateStats { $0.active -= 1 } }
        let queue = BoundedQueue<Outgoing>(capacity: 64)
        let stream = Stream(endpointer: endpointer, language: accepted.language)
        defer { stream.current?.cancel() }
        try await withThrowingTaskGroup(of: Side.self) { group in
            group.addTask {
                try await self.read(inbound, stream: stream, queue: queue)
            }
            group.addTask {
                try await self.write(queue, outbound: outbound)
                return .writer
            }
            group.addTask {
                await self.watch(stream, queue: queue)
                return .watchdog
            }
            // The reader asking to close, or the watchdog: what is queued (the close among it)
            // still goes out, then the writer ends. The client leaving, or the writer ending, ends all.
            waiting: while let side = try await group.next() {
                switch side {
                case .reader(closing: true), .watchdog: continue
                case .reader(closing: false), .writer: break waiting
                }
            }
            queue.close()
            group.cancelAll()
        }
    }

    /// Which task of a stream finished, and for the reader, whether it asked to close (false: the
    /// client left, or the close could not be queued: the stream ends at once).
    private enum Side {
        case reader(closing: Bool)
        case writer
        case watchdog
    }

    /// What the writer does next, in order.
    private enum Outgoing: Sendable {
        case message(StreamingASRMessage)
        /// Finish this utterance's recognition and send its `final`.
        case final(SpeechRecognitionStream, UtteranceEndpointer.Utterance, endedAt: ContinuousClock.Instant)
        case close(WebSocketErrorCode, reason: String)
    }

    /// The state of one stream.
    ///
    /// `@unchecked Sendable`: the reader task alone touches it, but for ``activity``, which the
    /// watchdog reads (an atomic).
    private final class Stream: @unchecked Sendable {
        /// When the last frame came (``StreamingASRDoor/uptimeNanoseconds()``).
        let activity = Atomic<Int64>(StreamingASRDoor.uptimeNanoseconds())
        let endpointer: UtteranceEndpointer
        let language: String?
        /// The recognition of the utterance being spoken.
        var current: SpeechRecognitionStream?
        var lastPartial: String?
        var lastPartialAt = ContinuousClock.now - .seconds(60)
        /// Seconds of audio ahead of real time (a bucket that drains in real time).
        var lead: Double = 0
        var lastAudioAt: ContinuousClock.Instant?

        init(endpointer: UtteranceEndpointer, language: String?) {
            self.endpointer = endpointer
            self.language = language
        }
    }

    // MARK: - Reader

    private func read(_ inbound: WebSocketInboundStream, stream: Stream, queue: BoundedQueue<Outgoing>) async throws -> Side {
        for try await message in inbound.messages(maxSize: settings.maxFrameBytes) {
            stream.activity.store(Self.uptimeNanoseconds(), ordering: .relaxed)
            switch message {
            case .binary(let buffer):
                guard buffer.readableBytes <= settings.maxFrameBytes else {
                    metrics.malformedInput(door: "stream", reason: "oversize_frame")
                    refuse("frames carry at most \(settings.maxFrameBytes) bytes, not \(buffer.readableBytes)", queue: queue)
                    return .reader(closing: queue.tryEnqueue(.close(.messageTooLarge, reason: "frame too large")))
                }
                guard buffer.readableBytes % 2 == 0 else {
                    metrics.malformedInput(door: "stream", reason: "odd_length")
                    refuse("binary frames carry 16-bit samples: an even number of bytes, not \(buffer.readableBytes)", queue: queue)
                    continue
                }
                let samples = Self.samples(littleEndian: buffer)
                guard admitAudio(samples.count, stream: stream) else {
                    logger.notice("stream sent audio faster than real time; closing", metadata: ["hub.lead": "\(stream.lead)"])
                    refuse("audio arrives faster than real time by more than \(settings.maxLead); send it as it is recorded", queue: queue)
                    return .reader(closing: queue.tryEnqueue(.close(.policyViolation, reason: "faster than real time")))
                }
                await handle(stream.endpointer.push(samples), stream: stream, queue: queue)
            case .text(let text):
                let request: StreamingASRClientMessage
                do {
                    request = try StreamingASRClientMessage.decode(text)
                } catch {
                    metrics.malformedInput(door: "stream", reason: "invalid_text_frame")
                    refuse(error.message, queue: queue)
                    continue
                }
                switch request {
                case .end: await handle(stream.endpointer.finish(), stream: stream, queue: queue)
                }
            }
        }
        return .reader(closing: false)
    }

    /// Counts `count` samples against the real-time allowance; false when the client is further
    /// ahead than ``StreamingASRDoorSettings/maxLead``.
    private func admitAudio(_ count: Int, stream: Stream) -> Bool {
        let now = ContinuousClock.now
        let seconds = Double(count) / Double(SpeechRecognitionStream.sampleRate)
        if let last = stream.lastAudioAt {
            stream.lead = max(0, stream.lead - Self.seconds(now - last))
        }
        stream.lastAudioAt = now
        stream.lead += seconds
        updateStats { $0.audioSeconds += seconds }
        metrics.voiceStreamAudio(seconds: seconds)
        return stream.lead <= Self.seconds(settings.maxLead)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func handle(_ events: [UtteranceEndpointer.Event], stream: Stream, queue: BoundedQueue<Outgoing>) async {
        for event in events {
            switch event {
            case .speechStarted:
                stream.current?.cancel()
                // The endpointer bounds the utterance's audio; the margin only guards against rounding.
                stream.current = speech.openRecognitionStream(language: stream.language, maxSeconds: Self.seconds(settings.endpointer.maximumLength) + 1)
                stream.lastPartial = nil
            case .audio(let samples):
                guard let current = stream.current else { continue }
                await current.feed(samples)
                sendPartial(of: current, stream: stream, queue: queue)
            case .ended(let utterance):
                guard let current = stream.current else { continue }
                stream.current = nil
                if !queue.tryEnqueue(.final(current, utterance, endedAt: .now)) {
                    current.cancel()
                    refuse("too many utterances waiting for their recognition; one was dropped", queue: queue)
                }
            case .discarded:
                stream.current?.cancel()
                stream.current = nil
            }
        }
    }

    /// Queues the current partial text when it changed and the last one is old enough; leaves
    /// room in the queue for finals and errors.
    private func sendPartial(of current: SpeechRecognitionStream, stream: Stream, queue: BoundedQueue<Outgoing>) {
        guard let partial = current.partial, partial != stream.lastPartial, queue.count < queue.capacity / 2 else { return }
        let now = ContinuousClock.now
        guard now - stream.lastPartialAt >= settings.partialInterval else { return }
        if queue.tryEnqueue(.message(.partial(text: partial))) {
            stream.lastPartial = partial
            stream.lastPartialAt = now
        }
    }

    /// Queues an error message for the client.
    private func refuse(_ message: String, queue: BoundedQueue<Outgoing>) {
        updateStats { $0.errors += 1 }
        queue.tryEnqueue(.message(.error(message: message)))
    }

    /// 16-bit little-endian samples from `buffer` (an even number of bytes).
    static func samples(littleEndian buffer: ByteBuffer) -> [Int16] {
        buffer.withUnsafeReadableBytes { bytes in
            [Int16](unsafeUninitializedCapacity: bytes.count / 2) { samples, count in
                for index in 0..<bytes.count / 2 {
                    samples[index] = Int16(bitPattern: UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8)
                }
                count = bytes.count / 2
            }
        }
    }

    // MARK: - Writer

    private func write(_ queue: BoundedQueue<Outgoing>, outbound: WebSocketOutboundWriter) async throws {
        // Recognitions not finished when the stream ends give their decoders back.
        var pending: SpeechRecognitionStream?
        defer { pending?.cancel() }
        while let item = await queue.next() {
            switch item {
            case .message(let message):
                if case .partial = message {
                    updateStats { $0.partials += 1 }
                    metrics.voiceStreamPartial()
                }
                try await outbound.write(.text(message.json))
            case .final(let recognition, let utterance, let endedAt):
                pending = recognition
                let message: StreamingASRMessage
                do {
                    let result = try await recognition.finish()
                    updateStats { $0.finals += 1 }
                    metrics.voiceStreamFinal(live: result.live, delay: .now - endedAt)
                    message = .final(text: result.text, start: utterance.start, end: utterance.end)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("an utterance could not be recognized", metadata: ["error": "\(error)"])
                    updateStats { $0.errors += 1 }
                    message = .error(message: "the utterance from \(utterance.start) s could not be recognized: \(error)")
                }
                pending = nil
                try await outbound.write(.text(message.json))
            case .close(let code, let reason):
                try await outbound.close(code, reason: reason)
                return
            }
        }
    }

    // MARK: - Watchdog

    /// Closes the stream when nothing came for ``StreamingASRDoorSettings/idleTimeout``.
    private func watch(_ stream: Stream, queue: BoundedQueue<Outgoing>) async {
        let timeout = settings.idleTimeout.nanoseconds
        let check = min(settings.idleTimeout / 4, .seconds(1))
        while !Task.isCancelled {
            let idle = Self.uptimeNanoseconds() - stream.activity.load(ordering: .relaxed)
            // A full queue takes the close at a later turn.
            if idle >= timeout, queue.tryEnqueue(.close(.normalClosure, reason: "idle")) {
                logger.debug("recognition stream idle; closing")
                return
            }
            try? await Task.sleep(for: check)
        }
    }

    static func uptimeNanoseconds() -> Int64 {
        (ContinuousClock.now - Self.origin).nanoseconds
    }

    private static let origin = ContinuousClock.now
}
