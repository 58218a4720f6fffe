// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One voice client's WebSocket, from `hello` to close.
///
/// Three tasks: the reader (messages and audio from the client, in order: hello, listen, abort,
/// utterances), the writer (the ``VoiceOutbox``: messages at once, answer audio paced by a
/// ``PlaybackSchedule``) and a watchdog (no hello in time, nothing heard for too long). A turn — recognize
/// the utterance, ask the engine, speak the answer — runs in a task of its own so the reader stays
/// free to hear `abort`: an abort, or speech while the answer plays in `realtime` listening, flushes
/// the outbox (the queued audio is gone, the writer skips what it holds) and cancels the turn (the
/// engine cancels the model's request and stores nothing of it).
final class VoiceConnection: Sendable {
    /// The answer a turn is giving.
    private struct Turn {
        let id: String
        let epoch: UInt64
        let timing: VoiceTurnTiming
        var task: Task<Void, Never>?
    }

    private struct State {
        var helloed = false
        var encoder: VoiceFrameEncoder?
        var turn: Turn?
        var lastHeard = ContinuousClock.now
        var close: (code: WebSocketErrorCode, reason: String)?
    }

    private let door: VoiceDoor
    private let accepted: VoiceDoor.Accepted
    let sessionID = UUID().uuidString.lowercased()
    private let outbox = VoiceOutbox()
    private let state = Mutex(State())
    private let logger: Logger
    /// Unplayed audio the device may hold: the first frames of an answer go at once, the rest at real time.
    private let lead: Duration

    /// Largest text message a client sends (an `mcp` result listing the device's tools is the largest).
    static let maxTextBytes = 64 << 10
    /// Broken audio frames in a row after which the connection is closed.
    static let maxBadFrames = 50

    init(door: VoiceDoor, accepted: VoiceDoor.Accepted) {
        self.door = door
        self.accepted = accepted
        var logger = door.logger
        logger[metadataKey: "hub.device"] = "\(accepted.deviceID)"
        self.logger = logger
        lead = .milliseconds(door.settings.frameDurationMs * 5)
    }

    private var settings: VoiceDoorSettings { door.settings }

    // MARK: Running

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        logger.info("voice client connected", metadata: ["hub.session": "\(sessionID)", "hub.protocol": "\(accepted.version.rawValue)"])
        defer {
            let turn = state.withLock { $0.turn }
            turn?.task?.cancel()
            outbox.close()
            logger.info("voice client disconnected", metadata: ["hub.session": "\(sessionID)"])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.write(to: outbound) }
            group.addTask { try await self.watch() }
            group.addTask {
                try await self.read(inbound)
                self.outbox.close()
            }
            // The writer ends last: after the reader (the client left, or a close was asked for) or
            // the watchdog asked it to close, it writes the close frame.
            _ = try await group.next()
            outbox.close()
            _ = try? await group.next()
            group.cancelAll()
        }
        if let task = state.withLock({ $0.turn?.task }) {
            task.cancel()
            await task.value
        }
    }

    /// Asks the writer to close the connection with `code` once what is before it has gone.
    private func close(_ code: WebSocketErrorCode, reason: String) {
        state.withLock { state in
            if state.close == nil { state.close = (code, reason) }
        }
        outbox.close()
    }

    private func send(_ message: VoiceServerMessage) { outbox.send(message.json) }

    private func refuse(_ code: String, _ message: String) {
        door.metrics.malformedInput(door: "voice", reason: code)
        logger.info("voice message refused", metadata: ["hub.reason": "\(code)", "hub.detail": "\(message)"])
        send(.error(code: code, message: message, sessionID: state.withLock { $0.helloed } ? sessionID : nil))
    }

    // MARK: Writer

    private func write(to outbound: WebSocketOutboundWriter) async throws {
        var schedule = PlaybackSchedule(frameDuration: .milliseconds(settings.frameDurationMs), lead: lead)
        var epoch: UInt64?
        while let entry = await outbox.next() {
            if entry.epoch != epoch {
                // A new answer (or an abort): the device cleared its queue when it got `tts start`.
                schedule.reset()
                epoch = entry.epoch
            }
            switch entry.item {
            case .text(let text):
                try await outbound.write(.text(text))
            case .audio(let payload):
                guard try await sleep(until: schedule.sendTime(now: .now), epoch: entry.epoch) else { continue }
                try await outbound.write(.binary(VoiceBinaryFrame(payload: payload).encoded(version: accepted.version)))
                schedule.sent(at: .now)
                if let turn = state.withLock({ $0.turn }), turn.epoch == entry.epoch { turn.timing.mark(.firstAudioSent) }
            case .afterPlayback(let text):
                guard try await sleep(until: schedule.playedOut(now: .now), epoch: entry.epoch) else { continue }
                try await outbound.write(.text(text))
            }
        }
        let close = state.withLock { $0.close }
        try await outbound.close(close?.code ?? .normalClosure, reason: close?.reason)
    }

    /// Sleeps until `instant` in short steps; false when `epoch` ended meanwhile (drop the item).
    private func sleep(until instant: ContinuousClock.Instant, epoch: UInt64) async throws -> Bool {
        while ContinuousClock.now < instant {
            guard outbox.isCurrent(epoch) else { return false }
            try await Task.sleep(until: min(instant, .now + .milliseconds(20)))
        }
        return outbox.isCurrent(epoch)
    }

    // MARK: Watchdog

    private func watch() async throws {
        let start = ContinuousClock.now
        while true {
            try await Task.sleep(for: .milliseconds(250))
            let (helloed, lastHeard, speaking) = state.withLock { ($0.helloed, $0.lastHeard, $0.turn != nil) }
            let now = ContinuousClock.now
            if !helloed, now - start >= settings.helloTimeout {
                refuse("hello_timeout", "no valid hello within \(settings.helloTimeout)")
                close(.policyViolation, reason: "no hello")
                return
            }
            if !speaking, now - lastHeard >= settings.idleTimeout {
                logger.info("voice client idle; closing", metadata: ["hub.session": "\(sessionID)"])
                close(.normalClosure, reason: "idle")
                return
            }
        }
    }

    // MARK: Reader

    private func read(_ inbound: WebSocketInboundStream) async throws {
        var listener: VoiceListener?
        var badFrames = 0
        for try await message in inbound.messages(maxSize: Self.maxTextBytes) {
            state.withLock { $0.lastHeard = .now }
            switch message {
            case .text(let text):
                let decoded: VoiceClientMessage
                do {
                    decoded = try VoiceClientMessage.decode(text)
                } catch {
                    refuse("bad_message", error.description)
                    continue
                }
                if !(try handle(decoded, listener: &listener)) { return }
            case .binary(let buffer):
                guard let current = listener else {
                    refuse("audio_before_hello", "send hello before audio")
                    continue
                }
                let frame: VoiceBinaryFrame
                do {
                    frame = try VoiceBinaryFrame(
                        decoding: buffer, version: accepted.version,
                        maxPayload: current.format == .pcm16 ? VoiceBinaryFrame.maxPCM16Payload : VoiceBinaryFrame.maxOpusPayload)
                } catch {
                    badFrames += 1
                    refuse("bad_frame", error.description)
                    if badFrames >= Self.maxBadFrames { return close(.dataInconsistentWithMessage, reason: "too many broken frames") }
                    continue
                }
                do {
                    let events = try await current.push(frame.payload)
                    badFrames = 0
                    for event in events { handle(event, mode: current.mode) }
                } catch {
                    switch error {
                    case .tooFast:
                        refuse("too_fast", error.description)
                        return close(.policyViolation, reason: "audio faster than real time")
                    case .undecodable:
                        badFrames += 1
                        door.metrics.malformedInput(door: "voice", reason: "bad_audio")
                        if badFrames == 1 { logger.info("voice audio refused", metadata: ["hub.detail": "\(error)"]) }
                        if badFrames >= Self.maxBadFrames {
                            send(.error(code: "bad_audio", message: "the audio cannot be decoded", sessionID: sessionID))
                            return close(.dataInconsistentWithMessage, reason: "undecodable audio")
                        }
                    }
                }
            }
        }
    }

    /// Handles one message; false when the connection is to close.
    private func handle(_ message: VoiceClientMessage, listener: inout VoiceListener?) throws -> Bool {
        switch message {
        case .hello(let hello):
            return handleHello(hello, listener: &listener)
        case .listen(let listen):
            guard let listener else {
                refuse("listen_before_hello", "send hello before listen")
                return true
            }
            switch listen.state {
            case .start:
                listener.start(mode: listen.mode ?? listener.mode)
            case .stop:
                if let event = listener.stop() { handle(event, mode: listener.mode) }
            case .detect:
                // The wake word: what follows is a new utterance.
                logger.debug("wake word", metadata: ["hub.text": "\(listen.text ?? "")"])
                listener.pause()
            }
        case .abort(let reason):
            abort(reason: reason ?? "client")
        case .mcp(let payload):
            // The hub offers the device no tools yet; a request (with a method and an id) is
            // answered as unknown, anything else (results, notifications) is noted.
            if let method = payload["method"]?.stringValue, let id = payload["id"] {
                let error: JSONValue = .object([
                    "jsonrpc": "2.0", "id": id, "error": .object(["code": .int(-32601), "message": .string("method not found: \(method)")]),
                ])
                send(.mcp(payload: error, sessionID: sessionID))
            } else {
                logger.debug("mcp message noted")
            }
        case .ping:
            send(.pong(sessionID: sessionID))
        case .unknown(let type):
            door.metrics.malformedInput(door: "voice", reason: "unknown_type")
            logger.info("unknown voice message ignored", metadata: ["hub.type": "\(type.prefix(64))"])
        }
        return true
    }

    private func handleHello(_ hello: VoiceClientMessage.Hello, listener: inout VoiceListener?) -> Bool {
        if let transport = hello.transport, transport != "websocket" {
            refuse("bad_hello", "transport must be \"websocket\", not \"\(transport.prefix(32))\"")
            close(.unacceptableData, reason: "bad hello")
            return false
        }
        let params = hello.audioParams ?? .device
        if let reason = params.refusalReason {
            refuse("bad_audio_params", reason)
            close(.unacceptableData, reason: "bad audio_params")
            return false
        }
        let format = params.knownFormat ?? .opus
        do {
            let created = try VoiceListener(
                params: params, speech: door.speech,
                endpointing: UtteranceEndpointer.Settings(silence: settings.endpointSilence, maximumLength: settings.maxUtterance))
            let encoder = try VoiceFrameEncoder(
                format: format == .pcm16 ? .pcm16 : .opus, sampleRate: settings.sampleRate, frameMilliseconds: settings.frameDurationMs)
            listener = created
            state.withLock { state in
                state.helloed = true
                state.encoder = encoder
            }
        } catch {
            refuse("bad_audio_params", "\(error)")
            close(.unacceptableData, reason: "bad audio_params")
            return false
        }
        let announced = VoiceAudioParams(format: format, sampleRate: settings.sampleRate, frameDuration: settings.frameDurationMs)
        send(.hello(version: accepted.version.rawValue, sessionID: sessionID, audioParams: announced))
        door.prepareRecognition()
        logger.debug("voice hello", metadata: ["hub.format": "\(format.rawValue)", "hub.mcp": "\(hello.features.mcp)"])
        return true
    }

    // MARK: Turns

    private func handle(_ event: VoiceListener.Event, mode: VoiceClientMessage.Listen.Mode) {
        switch event {
        case .speechStarted:
            // Speaking over the answer interrupts it in realtime listening (the client cancels its
            // echo); in auto listening the microphone is off while the answer plays, and a whole
            // utterance heard meanwhile replaces the answer when it ends.
            if mode == .realtime, state.withLock({ $0.turn != nil }) { abort(reason: "barge_in") }
        case .utterance(let recognition, let seconds, let speechEnded):
            startTurn(recognition, seconds: seconds, speechEnded: speechEnded)
        }
    }

    /// Stops the answer being given: its queued audio goes, the writer skips what it holds, the
    /// turn is cancelled; the client hears `tts stop` at once.
    private func abort(reason: String) {
        let turn = state.withLock { state -> Turn? in
            defer { state.turn = nil }
            return state.turn
        }
        outbox.flush()
        send(.ttsStop(sessionID: sessionID))
        guard let turn else { return }
        turn.task?.cancel()
        door.metrics.voiceTurn(outcome: "aborted")
        logger.info("voice answer aborted", metadata: ["hub.turn": "\(turn.id)", "hub.reason": "\(reason)"])
    }

    private func startTurn(_ recognition: SpeechRecognitionStream, seconds: Double, speechEnded: ContinuousClock.Instant) {
        let timing = VoiceTurnTiming()
        timing.mark(.speechEnded, at: speechEnded)
        timing.mark(.endpointed)
        door.metrics.voiceAudioReceived(seconds: seconds)
        let id = door.nextUtteranceID()
        // A new utterance replaces the answer still playing.
        let previous = state.withLock { state -> Turn? in
            defer { state.turn = nil }
            return state.turn
        }
        previous?.task?.cancel()
        let epoch = outbox.flush()
        guard let encoder = state.withLock({ $0.encoder }) else {
            recognition.cancel()
            return
        }
        var turn = Turn(id: id, epoch: epoch, timing: timing)
        turn.task = Task { [self] in
            await self.answer(recognition, seconds: seconds, id: id, epoch: epoch, timing: timing, encoder: encoder)
            state.withLock { state in
                if state.turn?.epoch == epoch { state.turn = nil }
            }
        }
        state.withLock { $0.turn = turn }
    }

    private func answer(
        _ recognition: SpeechRecognitionStream, seconds: Double, id: String, epoch: UInt64, timing: VoiceTurnTiming, encoder: VoiceFrameEncoder
    ) async {
        let text: String
        do {
            text = try await withTaskCancellationHandler {
                try await recognition.finish().text.trimmingCharacters(in: .whitespacesAndNewlines)
            } onCancel: {
                recognition.cancel()
            }
        } catch {
            guard !Task.isCancelled else { return }
            logger.warning("voice utterance not recognized", metadata: ["hub.turn": "\(id)", "error": "\(error)"])
            door.metrics.voiceTurn(outcome: "failed")
            send(.error(code: "recognition_failed", message: "The speech could not be recognized.", sessionID: sessionID))
            return
        }
        timing.mark(.transcribed)
        guard outbox.isCurrent(epoch), !Task.isCancelled else { return }
        send(.stt(text: text, sessionID: sessionID))
        guard !text.isEmpty else {
            door.metrics.voiceTurn(outcome: "empty")
            logger.info("voice utterance empty", metadata: ["hub.turn": "\(id)", "hub.audio_s": "\(seconds)"])
            return
        }
        let conversation = door.conversation(of: accepted.deviceID)
        let event = ConversationEvent(
            id: "voice:\(door.botID):\(accepted.deviceID):\(id)", platform: conversation.platform, botID: conversation.botID,
            scope: .private(user: conversation.user), sender: Sender(id: conversation.user), content: [.text(text)], platformMessageID: id)
        door.metrics.eventReceived(door: "voice", type: "utterance")
        let (admission, stream) = door.engine.answer(event, showsProgress: true, wantsSentences: true)
        let speaker = VoiceAnswerSpeaker(
            speech: door.speech, voice: nil, encoder: encoder, outbox: outbox, render: { [sessionID] cue in
                switch cue {
                case .start: VoiceServerMessage.ttsStart(sessionID: sessionID).json
                case .emotion(let emotion): VoiceServerMessage.llm(emotion: emotion, sessionID: sessionID).json
                case .sentence(let text): VoiceServerMessage.ttsSentenceStart(text: text, sessionID: sessionID).json
                case .stop: VoiceServerMessage.ttsStop(sessionID: sessionID).json
                }
            }, timing: timing, logger: logger)
        let outcome = await withTaskCancellationHandler {
            await speaker.speak(stream, epoch: epoch)
        } onCancel: {
            Task { await stream.cancel() }
        }
        record(id: id, text: text, admission: admission, outcome: outcome, timing: timing, epoch: epoch)
    }

    private func record(
        id: String, text: String, admission: ConversationEngine.Admission, outcome: VoiceAnswerSpeaker.Outcome, timing: VoiceTurnTiming, epoch: UInt64
    ) {
        let name: String
        switch outcome.terminal {
        case .final?: name = "answered"
        case .notice?: name = "refused"
        case .failure?: name = "failed"
        case .cancelled?, nil: name = outbox.isCurrent(epoch) ? "cancelled" : "aborted"
        default: name = "answered"
        }
        if name != "aborted" { door.metrics.voiceTurn(outcome: name) }
        let steps: [(String, VoiceTurnTiming.Step, VoiceTurnTiming.Step)] = [
            ("endpointing", .speechEnded, .endpointed), ("recognition", .endpointed, .transcribed),
            ("llm_first_token", .transcribed, .firstToken), ("first_sentence", .transcribed, .firstSentence),
            ("first_audio", .endpointed, .firstAudioSent),
        ]
        var metadata: Logger.Metadata = [
            "hub.turn": "\(id)", "hub.outcome": "\(name)", "hub.admission": "\(admission)", "hub.chars": "\(text.count)",
            "hub.sentences": "\(outcome.sentences)",
        ]
        for (step, from, to) in steps {
            guard let seconds = timing.seconds(from: from, to: to) else { continue }
            door.metrics.voiceTurnStep(step, duration: .nanoseconds(Int64(seconds * 1e9)))
            metadata["hub.\(step)_ms"] = "\(Int(seconds * 1000))"
        }
        logger.info("voice turn", metadata: metadata)
    }
}
