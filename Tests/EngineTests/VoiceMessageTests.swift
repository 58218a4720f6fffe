// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization
import Testing

@testable import Engine

/// A door's media source for the tests: the audio it was given, or a failure.
struct FixedMediaSource: MediaSource {
    let result: Result<AudioInput, SpeechError>

    func audio(_ reference: MediaReference, of event: ConversationEvent) async throws -> AudioInput {
        try result.get()
    }
}

/// A chat door that takes voice messages from `media`.
final class VoiceSink: AnswerSink {
    let inner = RecordingSink()
    let source: FixedMediaSource
    var showsProgress: Bool { false }
    var media: (any MediaSource)? { source }

    init(_ source: FixedMediaSource) {
        self.source = source
    }

    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        try await inner.receive(part, answering: event)
    }
}

/// Voice messages in a chat: transcribed (real espeak-ng speech, real PocketSphinx with a grammar),
/// then answered like text, the transcript kept as the user's message.
struct VoiceMessageTests {
    static let logger = Logger(label: "voice-message-test")

    static func voiceMessage(id: String, typed: String? = nil) -> ConversationEvent {
        var event = EngineHarness.message("", id: id)
        event.content = [.audio(.platformFile(id: "abc.amr", url: nil))] + (typed.map { [.text($0)] } ?? [])
        return event
    }

    /// Runs `body` with an engine whose speech has espeak-ng and a PocketSphinx with a grammar.
    static func withSpeech(_ body: @escaping @Sendable (EngineHarness) async throws -> Void) async throws {
        let lane = Lane(name: "cpu", maxConcurrent: 2, queueLimit: 16)
        let running = Task { await lane.run() }
        defer {
            lane.close()
            running.cancel()
        }
        let sphinx = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: PocketSphinxRecognizerTests.grammar), poolSize: 1))
        let speech = SpeechEngine(
            synthesis: SpeechSynthesisRouter(routes: [SpeechRoute(ESpeakSynthesizer())], logger: logger),
            recognition: SpeechRecognitionRouter(routes: [SpeechRoute(sphinx)], logger: logger), lane: lane)
        try await EngineHarness.run(voice: SpokenReplyComposer(speech: speech, settings: VoiceReplySettings()), body)
    }

    static func spoken(_ text: String) async throws -> AudioInput {
        let pcm = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: text, voice: "en-us"), deadline: nil, onAudio: nil)
        return .encoded(try AudioEncoder().encode(pcm, as: .wav), format: .wav)
    }

    @Test func aVoiceMessageIsTranscribedAnsweredAndKeptAsText() async throws {
        let audio = try await Self.spoken("hello world what time is it")
        try await Self.withSpeech { (hub: EngineHarness) async throws in
            let sink = VoiceSink(FixedMediaSource(result: .success(audio)))
            hub.engine.submit(Self.voiceMessage(id: "v1"), to: sink)
            #expect(try await sink.inner.ending(of: "v1").text == "echo: hello world what time is it")
            #expect(try await hub.history().map(\.content) == ["hello world what time is it", "echo: hello world what time is it"])
        }
    }

    @Test func aVoiceThatCannotBeHadGetsAShortReply() async throws {
        try await Self.withSpeech { (hub: EngineHarness) async throws in
            let sink = VoiceSink(FixedMediaSource(result: .failure(.badInput("gone"))))
            hub.engine.submit(Self.voiceMessage(id: "v1"), to: sink)
            let part = try await sink.inner.ending(of: "v1")
            guard case .failure(let reply, _) = part else {
                Issue.record("expected a failure part, got \(part)")
                return
            }
            #expect(reply.text.contains("couldn't understand that voice message"))
            #expect(hub.upstream.calls.isEmpty)
            #expect(try await hub.history().isEmpty)
        }
    }

    @Test func silenceGetsAShortReply() async throws {
        let silence = AudioInput.pcm(PCMAudio(samples: Array(repeating: 0, count: 16_000), sampleRate: 16_000))
        try await Self.withSpeech { (hub: EngineHarness) async throws in
            let sink = VoiceSink(FixedMediaSource(result: .success(silence)))
            hub.engine.submit(Self.voiceMessage(id: "v1"), to: sink)
            #expect(try await sink.inner.ending(of: "v1").text?.contains("voice message") == true)
            #expect(hub.upstream.calls.isEmpty)
        }
    }

    @Test func withoutSpeechOrADoorThatFetchesVoiceTheUserIsToldToType() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(Self.voiceMessage(id: "v1"), to: sink)
            #expect(try await sink.ending(of: "v1").text == "Sorry, I can't listen to voice messages here. Please type instead.")
            #expect(hub.upstream.calls.isEmpty)
        }
    }
}
