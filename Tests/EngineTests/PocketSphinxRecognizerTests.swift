// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct PocketSphinxRecognizerTests {
    static let grammar = """
        #JSGF V1.0;
        grammar hub;
        public <sentence> = hello world what time is it
            | turn on the kitchen light
            | what is the weather today
            | play some music please;
        """

    /// `text` spoken by espeak-ng (en-us) and encoded as `format`.
    static func spoken(_ text: String, format: AudioFormat = .wav) async throws -> [UInt8] {
        let speech = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: text, voice: "en-us"), deadline: nil)
        guard case .pcm(let audio) = speech else { throw SpeechError.malformed("espeak returned encoded audio") }
        return try AudioEncoder().encode(audio, as: format)
    }

    @Test func grammarRecognizesEspeakSpeechExactly() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar)))
        let wav = try await Self.spoken("hello world, what time is it?")
        let transcript = try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: .now + .seconds(30))
        #expect(transcript.text == "hello world what time is it")
        #expect(transcript.language == "en")
        #expect(transcript.duration.map { $0 > 1 && $0 < 4 } == true)
        // Another sentence of the grammar, from Ogg Vorbis this time.
        let ogg = try await Self.spoken("turn on the kitchen light", format: .ogg)
        #expect(try await recognizer.transcribe(.encoded(ogg, format: nil), language: nil, deadline: nil).text == "turn on the kitchen light")
    }

    @Test func theTextDependsOnTheAudioAloneNotOnTheDecodersPast() async throws {
        // Free speech in noise, twice on one decoder: its front end carries its noise estimate
        // (and its cepstral mean) from one utterance to the next unless they are reset, which
        // changed the words in 7 of 8 such recordings.
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(poolSize: 1))
        let speech = try await StreamingAudio.speech("the weather will be sunny in the morning and rainy in the evening")
        let quiet = StreamingAudio.silence(seconds: 0.3)
        let noisy = StreamingAudio.mixed(quiet + speech + quiet, with: StreamingAudio.noise(seconds: 1, rms: 300, seed: 3))
        let recording = AudioInput.pcm(PCMAudio(samples: noisy, sampleRate: 16_000))
        let first = try await recognizer.transcribe(recording, language: "en", deadline: nil).text
        let second = try await recognizer.transcribe(recording, language: "en", deadline: nil).text
        #expect(second == first)
    }

    @Test func samplesAtAnyRateAndChannelCountAreAccepted() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar)))
        let wav = try await Self.spoken("what is the weather today")
        let audio = try AudioDecoder().decode(wav)
        let stereo48k = try Resampler().resample(
            PCMAudio(samples: audio.samples.flatMap { [$0, $0] }, sampleRate: audio.sampleRate, channels: 2), to: 48_000)
        let transcript = try await recognizer.transcribe(.pcm(stereo48k), language: "en-US", deadline: nil)
        #expect(transcript.text == "what is the weather today")
    }

    @Test func keywordSpottingFindsTheKeyword() async throws {
        // Single words: "kitchen light" as one phrase is never spotted in espeak's voice, at any threshold.
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .keywords(["kitchen", "weather"], threshold: 1e-30)))
        let wav = try await Self.spoken("please turn on the kitchen light now")
        let transcript = try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil)
        #expect(transcript.text.hasPrefix("kitchen"), "\(transcript.text)")
        #expect(!transcript.text.contains("weather"), "\(transcript.text)")
        #expect(!transcript.text.contains("  "))
    }

    @Test func concurrentRecognitionsBeyondThePoolAllFinish() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 2, maxWaiting: 8))
        let sentences = ["hello world what time is it", "play some music please", "turn on the kitchen light"]
        var audio: [String: [UInt8]] = [:]
        for sentence in sentences { audio[sentence] = try await Self.spoken(sentence) }
        let inputs = (0..<6).map { sentences[$0 % sentences.count] }
        let results = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for expected in inputs {
                let wav = audio[expected]!
                group.addTask { (expected, try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil).text) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 6)
        for (expected, text) in results { #expect(text == expected) }
        #expect(recognizer.load == 0)
        #expect(recognizer.idleDecoders == 2)
    }

    @Test func beyondTheWaitingRoomIsBusy() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1, maxWaiting: 1))
        let wav = try await Self.spoken("play some music please")
        let outcomes = await withTaskGroup(of: Result<String, SpeechError>.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    do { return .success(try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil).text) }
                    catch let error as SpeechError { return .failure(error) }
                    catch { return .failure(.malformed("\(error)")) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let busy = outcomes.filter { if case .failure(let error) = $0 { error.kind == .busy } else { false } }
        let recognized = outcomes.filter { if case .success("play some music please") = $0 { true } else { false } }
        #expect(busy.count >= 1)
        #expect(recognized.count >= 1)
        #expect(busy.count + recognized.count == 4)
    }

    @Test func deadlineStopsRecognition() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar)))
        try await recognizer.prepare()
        // 60 s of audio: many seconds to decode, stopped near the deadline.
        let tone = testTone(sampleRate: 16_000, channels: 1, seconds: 60)
        let started = ContinuousClock.now
        let error = try await #require(throws: SpeechError.self) {
            _ = try await recognizer.transcribe(.pcm(tone), language: "en", deadline: .now + .milliseconds(300))
        }
        #expect(error.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(2))
        let past = try await #require(throws: SpeechError.self) {
            _ = try await recognizer.transcribe(.pcm(tone), language: "en", deadline: .now - .seconds(1))
        }
        #expect(past.kind == .timeout)
    }

    @Test func otherLanguagesAndBadAudioAreRefused() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar)))
        let chinese = try await #require(throws: SpeechError.self) {
            _ = try await recognizer.transcribe(.pcm(testTone(sampleRate: 16_000, channels: 1)), language: "zh", deadline: nil)
        }
        #expect(chinese.kind == .unsupported)
        let garbage = try await #require(throws: SpeechError.self) {
            _ = try await recognizer.transcribe(.encoded(Array("not audio at all".utf8), format: .mp3), language: "en", deadline: nil)
        }
        #expect(garbage.kind == .badInput)
        #expect(recognizer.load == 0)
    }

    @Test func prepareLoadsThePool() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 3))
        #expect(recognizer.idleDecoders == 0)
        try await recognizer.prepare()
        #expect(recognizer.idleDecoders == 3)
        try await recognizer.prepare()
        #expect(recognizer.idleDecoders == 3)
    }

    @Test func aMissingModelOrBadGrammarIsNotConfigured() async throws {
        let noModel = PocketSphinxRecognizer(PocketSphinxConfiguration(modelDirectory: "/nonexistent", search: .grammar(jsgf: Self.grammar)))
        let missing = try await #require(throws: SpeechError.self) { try await noModel.prepare() }
        #expect(missing.kind == .notConfigured)
        let badGrammar = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: "this is not jsgf")))
        let refused = try await #require(throws: SpeechError.self) { try await badGrammar.prepare() }
        #expect(refused.kind == .notConfigured)
    }
}
