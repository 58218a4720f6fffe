// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Synchronization

/// Measures the in-process speech providers: espeak-ng's characters per second and time to
/// first audio for one sentence, and PocketSphinx's real-time factor (decode time / audio time,
/// lower is faster) for one stream and for 1, 2 and 4 streams at once.
///
/// ```
/// swift run -c release SpeechBench [rounds] [pool size]
/// ```
@main
enum SpeechBench {
    static let sentence = "The quick brown fox jumps over the lazy dog, and then it runs into the forest to find its friends."
    static let utterance = """
        Hello world, what time is it? Please turn on the kitchen light. \
        What is the weather like today in the city? Play some music, and then remind me to call my mother tomorrow morning.
        """

    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        let rounds = arguments.first.flatMap(Int.init) ?? 10
        let poolSize = arguments.dropFirst().first.flatMap(Int.init) ?? 2
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount); rounds: \(rounds); recognizer pool: \(poolSize)")
        try await synthesis(rounds: rounds)
        try await resampling(rounds: rounds)
        try await recognition(rounds: rounds, poolSize: poolSize)
    }

    // MARK: - libsamplerate

    /// 22.05 → 16 kHz (espeak to pocketsphinx) with each converter quality.
    static func resampling(rounds: Int) async throws {
        let speech = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: utterance, voice: "en-us"), deadline: nil)
        guard case .pcm(let audio) = speech else { return }
        for quality in [Resampler.Quality.fastest, .medium, .best] {
            var times: [Double] = []
            for _ in 0..<rounds {
                let started = ContinuousClock.now
                _ = try Resampler(quality: quality).resample(audio, to: 16_000)
                times.append(seconds(ContinuousClock.now - started))
            }
            print(String(format: "resample 22.05 -> 16 kHz, %@: median %.2f ms for %.2f s of audio (%.0fx real time)",
                         "\(quality)", median(times) * 1000, audio.seconds, audio.seconds / median(times)))
        }
    }

    // MARK: - espeak-ng

    static func synthesis(rounds: Int) async throws {
        let tts = ESpeakSynthesizer()
        let request = SpeechRequest(text: sentence, voice: "en-us")
        _ = try await tts.synthesize(request, deadline: nil)  // initializes espeak-ng
        var totals: [Double] = []
        var firsts: [Double] = []
        var audioSeconds = 0.0
        for _ in 0..<rounds {
            let first = Mutex<ContinuousClock.Instant?>(nil)
            let started = ContinuousClock.now
            let audio = try await tts.synthesize(request, deadline: nil) { _ in
                first.withLock { if $0 == nil { $0 = .now } }
            }
            totals.append(seconds(ContinuousClock.now - started))
            firsts.append(seconds(first.withLock { $0 }! - started))
            audioSeconds = audio.seconds
        }
        let total = median(totals)
        print(String(format: "espeak-ng en-us, %d characters -> %.2f s of audio", sentence.count, audioSeconds))
        print(String(format: "  synthesis: median %.1f ms = %.0f characters/s, %.0fx real time", total * 1000,
                     Double(sentence.count) / total, audioSeconds / total))
        print(String(format: "  time to first audio: median %.1f ms (min %.1f, max %.1f)", median(firsts) * 1000,
                     firsts.min()! * 1000, firsts.max()! * 1000))
    }

    // MARK: - PocketSphinx

    static func recognition(rounds: Int, poolSize: Int) async throws {
        let speech = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: utterance, voice: "en-us"), deadline: nil)
        guard case .pcm(let audio) = speech else { return }
        let wav = try AudioEncoder().encode(audio, as: .wav)
        print(String(format: "pocketsphinx, language model, %.2f s of espeak speech (22.05 kHz WAV, decoded and resampled each time)",
                     audio.seconds))
        let recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(poolSize: poolSize, maxWaiting: 16))
        var started = ContinuousClock.now
        let residentBefore = residentMegabytes()
        try await recognizer.prepare()
        print(String(format: "  model load, %d decoders: %.0f ms, resident memory +%.0f MB", poolSize,
                     seconds(ContinuousClock.now - started) * 1000, residentMegabytes() - residentBefore))
        let first = try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil)
        print("  heard: \"\(first.text)\"")

        for streams in [1, 2, 4] {
            var factors: [Double] = []
            var throughputs: [Double] = []
            for _ in 0..<max(1, rounds / streams) {
                started = .now
                let perStream = try await withThrowingTaskGroup(of: Double.self) { group in
                    for _ in 0..<streams {
                        group.addTask {
                            let begun = ContinuousClock.now
                            _ = try await recognizer.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil)
                            return seconds(ContinuousClock.now - begun)
                        }
                    }
                    return try await group.reduce(into: [Double]()) { $0.append($1) }
                }
                let wall = seconds(ContinuousClock.now - started)
                factors.append(contentsOf: perStream.map { $0 / audio.seconds })
                throughputs.append(Double(streams) * audio.seconds / wall)
            }
            print(String(format: "  %d stream(s): real-time factor per stream median %.3f (max %.3f); %.1f s of audio per second overall",
                         streams, median(factors), factors.max()!, median(throughputs)))
        }

        // The same audio against a small grammar (what the tests use): a far smaller search.
        let grammar = PocketSphinxRecognizer(PocketSphinxConfiguration(search: .grammar(jsgf: """
            #JSGF V1.0; grammar bench; public <s> = hello world what time is it | please turn on the kitchen light
                | what is the weather like today in the city | play some music | remind me to call my mother tomorrow morning;
            """), poolSize: 1))
        try await grammar.prepare()
        var factors: [Double] = []
        var heard = ""
        for _ in 0..<rounds {
            started = .now
            heard = try await grammar.transcribe(.encoded(wav, format: .wav), language: "en", deadline: nil).text
            factors.append(seconds(ContinuousClock.now - started) / audio.seconds)
        }
        print(String(format: "pocketsphinx, 5-sentence JSGF grammar, 1 stream: real-time factor median %.3f (max %.3f)",
                     median(factors), factors.max()!))
        print("  heard: \"\(heard)\"")
    }

    /// The process's resident set (Linux `/proc/self/status`), in MB.
    static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
