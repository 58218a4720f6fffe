// SPDX-License-Identifier: Apache-2.0
import Logging
import Testing

@testable import Engine

/// `/voice on` and spoken answers, in the engine (no door): real espeak-ng through the speech
/// engine's `cpu` lane, clips decoded again with libsndfile.
struct SpokenReplyTests {
    static let logger = Logger(label: "spoken-reply-test")

    /// Runs `body` with a composer over `synthesizers` whose lane is running.
    static func withComposer(
        _ synthesizers: [any SpeechSynthesizer], settings: VoiceReplySettings, _ body: (SpokenReplyComposer) async throws -> Void
    ) async throws {
        let lane = Lane(name: "cpu", maxConcurrent: 2, queueLimit: 16)
        let running = Task { await lane.run() }
        defer {
            lane.close()
            running.cancel()
        }
        let speech = SpeechEngine(
            synthesis: SpeechSynthesisRouter(routes: synthesizers.map { SpeechRoute($0, retryAttempts: 0) }, logger: logger),
            recognition: SpeechRecognitionRouter(routes: [], logger: logger), lane: lane)
        try await body(SpokenReplyComposer(speech: speech, settings: settings))
    }

    static func audio(of part: AnswerPart) -> [PCMAudio] {
        guard case .final(let reply) = part else { return [] }
        return reply.parts.compactMap { part in
            guard case .audio(let bytes, let format) = part, format == "wav" else { return nil }
            return try? AudioDecoder().decode(bytes)
        }
    }

    @Test func voiceOnAddsClipsAfterTheTextAndVoiceOffRemovesThem() async throws {
        try await Self.withComposer([ESpeakSynthesizer()], settings: VoiceReplySettings(voice: "en-us")) { composer in
            try await EngineHarness.run(voice: composer) { (hub: EngineHarness) async throws in
                let sink = RecordingSink()
                hub.engine.submit(EngineHarness.message("/voice", id: "v0"), to: sink)
                #expect(try await sink.ending(of: "v0").text?.contains("off") == true)
                hub.engine.submit(EngineHarness.message("/voice on", id: "v1"), to: sink)
                #expect(try await sink.ending(of: "v1").text?.contains("on") == true)
                hub.engine.submit(EngineHarness.message("good morning", id: "m1"), to: sink)
                let spoken = try await sink.ending(of: "m1")
                #expect(spoken.text == "echo: good morning")
                let clips = Self.audio(of: spoken)
                #expect(clips.count == 1)
                #expect(clips.first.map { (0.3...5).contains($0.seconds) } == true)
                hub.engine.submit(EngineHarness.message("/voice off", id: "v2"), to: sink)
                _ = try await sink.ending(of: "v2")
                hub.engine.submit(EngineHarness.message("good night", id: "m2"), to: sink)
                let plain = try await sink.ending(of: "m2")
                #expect(plain.text == "echo: good night")
                #expect(Self.audio(of: plain).isEmpty)
                // The history holds the text alone.
                #expect(try await hub.history().contains { $0.content == "echo: good morning" })
            }
        }
    }

    @Test func aLongAnswerIsSplitIntoClipsOfAtMostTheLimit() async throws {
        let settings = VoiceReplySettings(maxClipSeconds: 2, voice: "en-us")
        try await Self.withComposer([ESpeakSynthesizer()], settings: settings) { composer in
            let answer = "The first sentence is here. A second one follows it. Then comes a third, longer sentence with a few more words. And the last."
            let clips = try await composer.clips(for: answer)
            #expect(clips.count >= 3)
            for clip in clips { #expect(clip.seconds <= 2.0001) }
            #expect(clips.reduce(0) { $0 + $1.seconds } > 4)
        }
    }

    @Test func voiceModeSendsClipsWithoutTheText() async throws {
        try await Self.withComposer([ESpeakSynthesizer()], settings: VoiceReplySettings(mode: .voice)) { composer in
            let parts = await composer.reply(to: "Hello there.", text: [.text("Hello there.")], logger: Self.logger)
            #expect(parts.count == 1)
            guard case .audio(let bytes, "wav")? = parts.first else {
                Issue.record("expected one WAV clip, got \(parts)")
                return
            }
            #expect((try? AudioDecoder().decode(bytes).seconds).map { $0 > 0.2 } == true)
        }
    }

    @Test func whenSpeechFailsTheTextStillGoesOut() async throws {
        let broken = ScriptedSpeechProvider("broken", .fail(.transport("no speech today")))
        try await Self.withComposer([broken], settings: VoiceReplySettings()) { composer in
            let parts = await composer.reply(to: "Hello.", text: [.text("Hello.")], logger: Self.logger)
            #expect(parts == [.text("Hello.")])
        }
    }

    @Test func withoutSpeechVoiceCannotBeTurnedOn() async throws {
        try await EngineHarness.run { (hub: EngineHarness) async throws in
            let sink = RecordingSink()
            hub.engine.submit(EngineHarness.message("/voice on", id: "v1"), to: sink)
            #expect(try await sink.ending(of: "v1").text == "Voice replies are not available on this hub.")
        }
    }

    @Test func packingJoinsShortPiecesAndCutsLongOnes() {
        let second = PCMAudio(samples: Array(repeating: 1, count: 16_000), sampleRate: 16_000)
        let half = PCMAudio(samples: Array(repeating: 2, count: 8_000), sampleRate: 16_000)
        let other = PCMAudio(samples: Array(repeating: 3, count: 22_050), sampleRate: 22_050)
        let long = PCMAudio(samples: Array(repeating: 4, count: 16_000 * 5), sampleRate: 16_000)
        let clips = SpokenReplyComposer.pack([half, half, second, other, long], maxSeconds: 2)
        #expect(clips.map(\.seconds) == [2, 1, 2, 2, 1])
        #expect(clips.map(\.sampleRate) == [16_000, 22_050, 16_000, 16_000, 16_000])
        #expect(SpokenReplyComposer.pack([], maxSeconds: 2).isEmpty)
    }
}
