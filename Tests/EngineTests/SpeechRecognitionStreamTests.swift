// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Engine

/// Utterances recognized while they are spoken (PocketSphinx), and whole at their end (a remote
/// provider on loopback, or every decoder taken).
@Suite(.timeLimit(.minutes(3)))
struct SpeechRecognitionStreamTests {
    static let logger = Logger(label: "stream-test")
    static let grammar = PocketSphinxRecognizerTests.grammar
    static let sentence = "hello world what time is it"

    /// Runs `body` with a speech engine over `routes` whose lane is running; the usage records it made.
    @discardableResult
    static func withSpeech(
        _ routes: [SpeechRoute<any SpeechRecognizer>], _ body: (SpeechEngine) async throws -> Void
    ) async throws -> [UsageRecord] {
        let lane = Lane(name: "cpu", maxConcurrent: 2, queueLimit: 16)
        let running = Task { await lane.run() }
        defer {
            lane.close()
            running.cancel()
        }
        let records = Mutex<[UsageRecord]>([])
        let speech = SpeechEngine(
            synthesis: SpeechSynthesisRouter(routes: [], logger: logger),
            recognition: SpeechRecognitionRouter(routes: routes, logger: logger) { record in records.withLock { $0.append(record) } }, lane: lane)
        try await body(speech)
        return records.withLock { $0 }
    }

    /// `sentence` spoken, between quiet, as the endpointer gives an utterance (16 kHz).
    static func utterance(_ text: String = sentence) async throws -> [Int16] {
        StreamingAudio.silence(seconds: 0.3) + (try await StreamingAudio.speech(text)) + StreamingAudio.silence(seconds: 0.5)
    }

    /// Feeds `audio` in pieces of `sizes`; the distinct partial texts seen after the feeds.
    static func feed(_ stream: SpeechRecognitionStream, _ audio: [Int16], sizes: [Int] = [960]) async -> [String] {
        var partials: [String] = []
        for piece in StreamingAudio.pieces(audio, sizes: sizes) {
            await stream.feed(piece)
            if let partial = stream.partial, partial != partials.last { partials.append(partial) }
        }
        return partials
    }

    @Test func liveRecognitionGivesTheWholeRecordingsText() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
        let audio = try await Self.utterance()
        let whole = try await recognizer.transcribe(.pcm(PCMAudio(samples: audio, sampleRate: 16_000)), language: "en", deadline: nil)
        #expect(whole.text == Self.sentence)
        let records = try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            for sizes in [[960], [1, 4_093, 100], [audio.count]] {
                let stream = speech.openRecognitionStream(language: "en", maxSeconds: 30)
                #expect(stream.isLive)
                _ = await Self.feed(stream, audio, sizes: sizes)
                let result = try await stream.finish()
                #expect(result.text == whole.text, "pieces of \(sizes)")
                #expect(result.live)
                #expect(result.provider == "pocketsphinx")
                #expect(abs(result.seconds - Double(audio.count) / 16_000) < 1e-9)
            }
        }
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.kind == "stt" && $0.outcome == "ok" && $0.provider == "pocketsphinx" && $0.quantity > 2 })
        #expect(recognizer.liveRecognitions == 0)
    }

    @Test func freeSpeechIsTheSameLiveAndGivesPartials() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(poolSize: 1))
        let audio = try await Self.utterance("the weather will be sunny in the morning and rainy in the evening, with a light wind from the west")
        #expect(Double(audio.count) / 16_000 > 4)
        let whole = try await recognizer.transcribe(.pcm(PCMAudio(samples: audio, sampleRate: 16_000)), language: "en", deadline: nil)
        #expect(!whole.text.isEmpty)
        try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            let stream = speech.openRecognitionStream(language: "en")
            let partials = await Self.feed(stream, audio, sizes: [960])
            let result = try await stream.finish()
            #expect(result.text == whole.text)
            #expect(result.live)
            #expect(partials.count >= 1, "no partial text")
            #expect(stream.partial != nil)
            print("free speech: \"\(result.text)\"; \(partials.count) partials: \(partials)")
        }
    }

    @Test func withEveryDecoderTakenTheUtteranceIsRecognizedWholeAtTheEnd() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
        let audio = try await Self.utterance()
        try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            let first = speech.openRecognitionStream(language: "en")
            let second = speech.openRecognitionStream(language: "en")
            #expect(first.isLive)
            #expect(!second.isLive)
            _ = await Self.feed(first, audio)
            let partials = await Self.feed(second, audio)
            #expect(partials.isEmpty)
            // The second waits in the router for the decoder the first holds until it finishes.
            async let late = second.finish()
            let early = try await first.finish()
            let fallback = try await late
            #expect(early.text == Self.sentence)
            #expect(early.live)
            #expect(fallback.text == Self.sentence)
            #expect(!fallback.live)
            #expect(fallback.provider == "pocketsphinx")
        }
        #expect(recognizer.load == 0)
        #expect(recognizer.liveRecognitions == 0)
    }

    @Test func aStreamGoesLiveWhenADecoderComesFree() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
        let audio = try await Self.utterance()
        try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            let first = speech.openRecognitionStream(language: "en")
            let second = speech.openRecognitionStream(language: "en")
            #expect(!second.isLive)
            _ = await Self.feed(first, audio)
            await second.feed(Array(audio.prefix(4_800)))  // the first's decoder is still taken
            #expect(!second.isLive)
            #expect(try await first.finish().text == Self.sentence)
            // The next feed starts a live recognition, which catches up on what came before.
            let partials = await Self.feed(second, Array(audio.dropFirst(4_800)))
            #expect(second.isLive)
            #expect(!partials.isEmpty)
            let result = try await second.finish()
            #expect(result.text == Self.sentence)
            #expect(result.live)
        }
    }

    @Test func aRecordingWaitsForADecoderALiveStreamHoldsUntilItsDeadline() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
        let audio = try await Self.utterance()
        let recording = AudioInput.pcm(PCMAudio(samples: audio, sampleRate: 16_000))
        try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            let stream = speech.openRecognitionStream(language: "en")
            #expect(stream.isLive)
            await stream.feed(Array(audio.prefix(8_000)))
            let started = ContinuousClock.now
            let busy = try await #require(throws: SpeechError.self) {
                _ = try await recognizer.transcribe(recording, language: "en", deadline: .now + .milliseconds(300))
            }
            #expect(busy.kind == .busy)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(recognizer.load == 0)
            // One without a deadline waits until the stream is done.
            async let waited = recognizer.transcribe(recording, language: "en", deadline: nil)
            try await Task.sleep(for: .milliseconds(100))
            stream.cancel()
            #expect(try await waited.text == Self.sentence)
        }
    }

    @Test func cancellingOrDroppingAStreamGivesTheDecoderBack() async throws {
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
        let audio = try await Self.utterance()
        try await Self.withSpeech([SpeechRoute(recognizer)]) { speech in
            let cancelled = speech.openRecognitionStream(language: "en")
            #expect(cancelled.isLive)
            await cancelled.feed(Array(audio.prefix(16_000)))
            cancelled.cancel()
            await cancelled.feed(Array(audio.prefix(16_000)))  // ignored
            try await Self.waitUntil("the decoder is back") { recognizer.liveRecognitions == 0 }
            do {
                let dropped = speech.openRecognitionStream(language: "en")
                #expect(dropped.isLive)
                await dropped.feed(Array(audio.prefix(8_000)))
            }
            try await Self.waitUntil("the dropped stream's decoder is back") { recognizer.liveRecognitions == 0 }
            // The decoder, back in the pool, recognizes the next utterance from scratch.
            let next = speech.openRecognitionStream(language: "en")
            #expect(next.isLive)
            _ = await Self.feed(next, audio)
            #expect(try await next.finish().text == Self.sentence)
            // A finished stream ignores what comes after.
            await next.feed(audio)
            #expect(try await next.finish().text == "")
        }
    }

    @Test func aRemoteRecognizerGetsTheWholeUtteranceBoundedByMaxSeconds() async throws {
        let uploads = Mutex<[[UInt8]]>([])
        let router = Router()
        router.post("/v1/audio/transcriptions") { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 8 << 20).readableBytesView)
            let parts = try MultipartFormParser().parse(contentType: request.headers[.contentType] ?? "", body: body)
            let file = parts.first { $0.name == "file" }?.body ?? []
            uploads.withLock { $0.append(file) }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"text":"heard remotely"}"#)))
        }
        let audio = try await Self.utterance()
        try await withLoopbackServer(router) { port, client in
            let remote = OpenAITranscriber(
                configuration: .init(name: "remote", baseURL: "http://127.0.0.1:\(port)/v1", apiKey: nil, model: "whisper-1", timeout: .seconds(10)),
                client: client, logger: Self.logger)
            let local = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: Self.grammar), poolSize: 1))
            let records = try await Self.withSpeech([SpeechRoute(remote, priority: 1), SpeechRoute(local, priority: 2)]) { speech in
                let stream = speech.openRecognitionStream(language: "en", maxSeconds: 1.5)
                #expect(!stream.isLive)
                let partials = await Self.feed(stream, audio)
                #expect(partials.isEmpty)
                let result = try await stream.finish()
                #expect(result == .init(text: "heard remotely", provider: "remote", live: false, seconds: 1.5))
            }
            #expect(local.liveRecognitions == 0)
            let upload = try #require(uploads.withLock { $0.first })
            let decoded = try AudioDecoder().decode(upload)
            #expect(decoded.sampleRate == 16_000)
            #expect(decoded.samples == Array(audio.prefix(24_000)))
            #expect(records.map(\.provider) == ["remote"])
        }
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "timed out waiting until \(what)")
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
