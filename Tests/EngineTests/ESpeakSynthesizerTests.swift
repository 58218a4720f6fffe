// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization
import Testing

@testable import Engine

@Suite struct ESpeakSynthesizerTests {
    let tts = ESpeakSynthesizer()

    func speak(_ text: String, voice: String? = nil, speed: Double = 1) async throws -> PCMAudio {
        let speech = try await tts.synthesize(SpeechRequest(text: text, voice: voice, speed: speed), deadline: .now + .seconds(30))
        guard case .pcm(let audio) = speech else { throw SpeechError.malformed("espeak returned encoded audio") }
        return audio
    }

    @Test func englishIsSpokenAt22050HzMono() async throws {
        let audio = try await speak("Hello world, what time is it?", voice: "en-us")
        #expect(audio.sampleRate == 22_050)
        #expect(audio.channels == 1)
        #expect(audio.seconds > 1 && audio.seconds < 4, "\(audio.seconds) s")
        #expect(audio.samples.contains { abs(Int($0)) > 3_000 }, "not silence")
        #expect(tts.voices == ["en", "en-us", "cmn", "yue"])
    }

    @Test func chineseVoicesSpeakChinese() async throws {
        let mandarin = try await speak("今天天气很好，我们去公园吧。", voice: "cmn")
        #expect(mandarin.seconds > 0.5 && mandarin.seconds < 10, "\(mandarin.seconds) s")
        let cantonese = try await speak("你好，早晨。", voice: "yue")
        #expect(cantonese.seconds > 0.5 && cantonese.seconds < 10, "\(cantonese.seconds) s")
    }

    @Test func speedChangesTheRate() async throws {
        let normal = try await speak("The quick brown fox jumps over the lazy dog.", voice: "en")
        let fast = try await speak("The quick brown fox jumps over the lazy dog.", voice: "en", speed: 2)
        #expect(fast.seconds < normal.seconds * 0.7, "\(fast.seconds) s vs \(normal.seconds) s")
        #expect(ESpeakSynthesizer.wordsPerMinute(speed: 1) == 175)
        #expect(ESpeakSynthesizer.wordsPerMinute(speed: 0.1) == 80)
        #expect(ESpeakSynthesizer.wordsPerMinute(speed: 4) == 450)
        #expect(ESpeakSynthesizer.wordsPerMinute(speed: .nan) == 175)
    }

    @Test func markupIsNotSpoken() async throws {
        let marked = "**Hello** [CQ:face,id=1] <b>there</b>"
        let cleaned = try await speak(marked, voice: "en-us")
        let plain = try await speak("Hello there.", voice: "en-us")
        // espeak's output varies slightly from call to call; read literally, the markup would take seconds more.
        let literal = try await ESpeakEngine.shared.synthesize(.init(text: marked, voice: "en-us", rate: 175, pitch: 50))
        #expect(abs(cleaned.seconds - plain.seconds) < 0.1, "\(cleaned.seconds) s vs \(plain.seconds) s")
        #expect(literal.seconds > plain.seconds + 1, "\(literal.seconds) s")
    }

    @Test func badRequestsAreRefused() async throws {
        let tooLong = try await #require(throws: SpeechError.self) {
            _ = try await speak(String(repeating: "word ", count: 820))
        }
        #expect(tooLong.kind == .badInput)
        let empty = try await #require(throws: SpeechError.self) { _ = try await speak("[CQ:face,id=1] **") }
        #expect(empty.kind == .badInput)
        let unknown = try await #require(throws: SpeechError.self) { _ = try await speak("hello", voice: "fr") }
        #expect(unknown.kind == .unsupported)
        let missing = try await #require(throws: SpeechError.self) {
            _ = try await ESpeakSynthesizer(voices: ["no-such-voice"]).synthesize(SpeechRequest(text: "hello"), deadline: nil)
        }
        #expect(missing.kind == .unsupported)
    }

    @Test func deadlineStopsSynthesis() async throws {
        let passed = try await #require(throws: SpeechError.self) {
            _ = try await tts.synthesize(SpeechRequest(text: "hello"), deadline: .now - .milliseconds(1))
        }
        #expect(passed.kind == .timeout)
        // espeak makes these 200 s of speech in about 0.1 s, so each block is slowed down by 20 ms
        // (1,000 blocks: 20 s); the deadline must stop it within a block of passing.
        let blocks = Atomic<Int>(0)
        let stopped = try await #require(throws: SpeechError.self) {
            _ = try await tts.synthesize(SpeechRequest(text: Self.longText, voice: "en"), deadline: .now + .milliseconds(100)) { _ in
                blocks.add(1, ordering: .relaxed)
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        #expect(stopped.kind == .timeout)
        #expect(blocks.load(ordering: .relaxed) <= 6, "the deadline passes within the fifth block of 20 ms")
    }

    @Test func audioArrivesInBlocksAsItIsMade() async throws {
        let blocks = Mutex<[Int]>([])
        let audio = try await tts.synthesize(
            SpeechRequest(text: "One sentence. And another one after it.", voice: "en"), deadline: nil
        ) { block in blocks.withLock { $0.append(block.samples.count) } }
        let counts = blocks.withLock { $0 }
        #expect(counts.count > 1)
        #expect(counts.reduce(0, +) == audio.samples.count)
    }

    @Test func cancellationStopsSynthesis() async throws {
        // The fifth block holds espeak's thread until the task is cancelled; the next block must be the last.
        let blocks = Atomic<Int>(0)
        let resume = DispatchSemaphore(value: 0)
        let (reached, reachedFifth) = AsyncStream<Void>.makeStream()
        let task = Task {
            try await tts.synthesize(SpeechRequest(text: Self.longText, voice: "en"), deadline: nil) { _ in
                if blocks.add(1, ordering: .relaxed).newValue == 5 {
                    reachedFifth.yield()
                    resume.wait()
                }
            }
        }
        for await _ in reached { break }
        task.cancel()
        resume.signal()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(blocks.load(ordering: .relaxed) <= 6, "of about 1,000")
    }

    /// About 200 s of speech (3,825 characters).
    static let longText = String(repeating: "This sentence is one of many in a long text. ", count: 85)
}
