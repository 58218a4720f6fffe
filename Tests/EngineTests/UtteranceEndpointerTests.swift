// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

/// Utterances found in streams of espeak-ng speech, pauses and noise.
@Suite struct UtteranceEndpointerTests {
    /// A stream of 0.8 s of quiet, the first sentence, 1.5 s of quiet, the second, 1 s of quiet;
    /// and where each sentence's speech starts and ends, in seconds.
    static func twoUtterances(noise: Double = 0) async throws -> (audio: [Int16], speech: [ClosedRange<Double>]) {
        let first = try await StreamingAudio.speech("hello world, what time is it?")
        let second = try await StreamingAudio.speech("turn on the kitchen light please")
        let quiet = { (seconds: Double) in StreamingAudio.silence(seconds: seconds, seed: UInt64(seconds * 10)) }
        var audio = quiet(0.8) + first + quiet(1.5) + second + quiet(1.0)
        if noise > 0 { audio = StreamingAudio.mixed(audio, with: StreamingAudio.noise(seconds: 3, rms: noise, seed: 4)) }
        let rate = Double(StreamingAudio.rate)
        let firstEnd = 0.8 + Double(first.count) / rate
        let secondStart = firstEnd + 1.5
        return (audio, [0.8...firstEnd, secondStart...(secondStart + Double(second.count) / rate)])
    }

    /// Pushes `audio` in pieces of `sizes`, then finishes; every event, consecutive audio merged.
    static func events(_ endpointer: UtteranceEndpointer, _ audio: [Int16], sizes: [Int] = [960], finish: Bool = true) -> [UtteranceEndpointer.Event] {
        var events: [UtteranceEndpointer.Event] = []
        for piece in StreamingAudio.pieces(audio, sizes: sizes) { events += endpointer.push(piece) }
        if finish { events += endpointer.finish() }
        return merged(events)
    }

    static func merged(_ events: [UtteranceEndpointer.Event]) -> [UtteranceEndpointer.Event] {
        var result: [UtteranceEndpointer.Event] = []
        for event in events {
            if case .audio(let more) = event, case .audio(let before)? = result.last {
                result[result.count - 1] = .audio(before + more)
            } else {
                result.append(event)
            }
        }
        return result
    }

    static func ended(_ events: [UtteranceEndpointer.Event]) -> [UtteranceEndpointer.Utterance] {
        events.compactMap { if case .ended(let utterance) = $0 { utterance } else { nil } }
    }

    static func kinds(_ events: [UtteranceEndpointer.Event]) -> [String] {
        events.map { event in
            switch event {
            case .speechStarted: "started"
            case .audio: "audio"
            case .ended: "ended"
            case .discarded: "discarded"
            }
        }
    }

    @Test(arguments: [0.0, 300.0])
    func twoUtterancesWithAPauseGiveTwoEnds(noise: Double) async throws {
        let (audio, speech) = try await Self.twoUtterances(noise: noise)
        let events = Self.events(try UtteranceEndpointer(), audio)
        #expect(Self.kinds(events) == ["started", "audio", "ended", "started", "audio", "ended"], "noise \(noise)")
        let utterances = Self.ended(events)
        try #require(utterances.count == 2)
        for (utterance, truth) in zip(utterances, speech) {
            #expect(abs(utterance.start - truth.lowerBound) <= 0.1, "start \(utterance.start) vs \(truth.lowerBound)")
            // The detector's own hangover keeps a little after the last sound.
            #expect(utterance.end - truth.upperBound >= -0.1 && utterance.end - truth.upperBound <= 0.2, "end \(utterance.end) vs \(truth.upperBound)")
            #expect(utterance.reason == .silence)
            #expect(abs(utterance.endpoint - utterance.end - 0.5) < 0.001, "endpoint \(utterance.endpoint) after end \(utterance.end)")
        }
        // Each utterance's audio is the stream from 300 ms before the start to the endpoint.
        let audioEvents = events.compactMap { if case .audio(let samples) = $0 { samples } else { nil } }
        for (utterance, samples) in zip(utterances, audioEvents) {
            #expect(utterance.startSample - utterance.audioStartSample == 4_800)
            #expect(samples == Array(audio[utterance.audioStartSample..<utterance.endpointSample]))
        }
        if case .speechStarted(let start) = events[0] { #expect(start == utterances[0].start) }
    }

    @Test func anyChunkingGivesTheSameEvents() async throws {
        let (audio, _) = try await Self.twoUtterances(noise: 200)
        let reference = Self.events(try UtteranceEndpointer(), audio, sizes: [audio.count])
        for sizes in [[1_000_003], [1, 17, 320], [160], [961, 2_048, 3]] {
            #expect(Self.events(try UtteranceEndpointer(), audio, sizes: sizes) == reference, "pieces of \(sizes)")
        }
    }

    @Test func noiseAndClicksStaySilent() throws {
        // Each a stream of its own, noisy from the start: the detector learns the noise in its
        // first frames. (A jump from silence to loud noise in the middle of a stream reads as
        // speech until it has adapted: 3.7 s for white noise at −30 dBFS.)
        let streams = [
            StreamingAudio.noise(seconds: 8, rms: 1_000, seed: 11),
            StreamingAudio.noise(seconds: 4, rms: 1_000, seed: 13) + StreamingAudio.noise(seconds: 4, rms: 150, seed: 12),
            // Clicks: 20 ms bursts, one a second, over quiet.
            (0..<6).reduce(StreamingAudio.silence(seconds: 1)) { audio, second in
                audio + StreamingAudio.noise(seconds: 0.02, rms: 12_000, seed: 20 + UInt64(second)) + StreamingAudio.silence(seconds: 0.98)
            },
        ]
        let endpointer = try UtteranceEndpointer()
        for (index, audio) in streams.enumerated() {
            endpointer.reset()
            #expect(Self.events(endpointer, audio).isEmpty, "stream \(index)")
        }
    }

    @Test func theMaximumLengthEndsAnUtterance() async throws {
        let long = try await StreamingAudio.speech(
            "This is a long sentence that keeps going on and on, with only short pauses, well past the longest utterance allowed here.")
        #expect(Double(long.count) / 16_000 > 5)
        let endpointer = try UtteranceEndpointer(settings: .init(maximumLength: .seconds(2)))
        let events = Self.events(endpointer, StreamingAudio.silence(seconds: 0.5) + long + StreamingAudio.silence(seconds: 1))
        let utterances = Self.ended(events)
        #expect(utterances.count >= 2)
        #expect(utterances.first?.reason == .maximumLength)
        for utterance in utterances {
            #expect(utterance.audioSeconds <= 2.0 + 1e-9, "\(utterance.audioSeconds) s")
        }
        // The pieces follow each other without overlap.
        for (before, after) in zip(utterances, utterances.dropFirst()) {
            #expect(after.audioStartSample >= before.endpointSample)
        }
    }

    @Test func aTooShortUtteranceIsDiscarded() async throws {
        let word = try await StreamingAudio.speech("yes")
        let endpointer = try UtteranceEndpointer(settings: .init(minimumLength: .seconds(1)))
        let events = Self.events(endpointer, StreamingAudio.silence(seconds: 0.5) + word + StreamingAudio.silence(seconds: 1))
        #expect(Self.kinds(events) == ["started", "audio", "discarded"])
        // With the default minimum (200 ms) the word is an utterance.
        let kept = Self.events(try UtteranceEndpointer(), StreamingAudio.silence(seconds: 0.5) + word + StreamingAudio.silence(seconds: 1))
        #expect(Self.kinds(kept) == ["started", "audio", "ended"])
    }

    @Test func preRollIsCutAtTheStreamStartAndAfterAnEnd() async throws {
        let sentence = try await StreamingAudio.speech("good morning how are you")
        // Speech from the first sample: the pre-roll cannot reach before the stream.
        let endpointer = try UtteranceEndpointer(settings: .init(startupIgnore: .zero))
        let events = Self.events(endpointer, sentence + StreamingAudio.silence(seconds: 0.2) + sentence + StreamingAudio.silence(seconds: 1))
        let utterances = Self.ended(events)
        try #require(utterances.count == 1)
        #expect(utterances[0].audioStartSample == 0)
        #expect(utterances[0].startSample < 1_600)
        // A second stream, speech right after an endpoint: its pre-roll starts at that endpoint.
        let pause = StreamingAudio.silence(seconds: 0.8)
        endpointer.reset()
        let again = Self.events(endpointer, StreamingAudio.silence(seconds: 0.5) + sentence + pause + sentence + StreamingAudio.silence(seconds: 1))
        let pair = Self.ended(again)
        try #require(pair.count == 2)
        #expect(pair[1].audioStartSample >= pair[0].endpointSample)
    }

    @Test func finishEndsTheOpenUtterance() async throws {
        let sentence = try await StreamingAudio.speech("please turn on the light")
        let endpointer = try UtteranceEndpointer()
        var events = endpointer.push(StreamingAudio.silence(seconds: 0.5) + sentence)
        #expect(endpointer.inSpeech)
        events += endpointer.finish()
        let utterances = Self.ended(events)
        try #require(utterances.count == 1)
        #expect(utterances[0].reason == .flushed)
        #expect(!endpointer.inSpeech)
        #expect(endpointer.finish().isEmpty)
        // Time goes on after a finish; a reset starts it again.
        #expect(endpointer.samplesProcessed == (8_000 + sentence.count) / 160 * 160)
        endpointer.reset()
        #expect(endpointer.samplesProcessed == 0)
    }
}
