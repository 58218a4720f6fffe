// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization
import Testing

@testable import Engine

/// A speech provider that does what its script says, attempt by attempt (the last step repeats),
/// and counts its calls. Stalls honour the deadline as real providers must.
final class ScriptedSpeechProvider: SpeechSynthesizer, SpeechRecognizer, Sendable {
    enum Step: Sendable {
        case answer
        case fail(SpeechError)
        /// Hangs until the deadline (or its own `timeout`, whichever comes first), then times out.
        case stall
    }

    let name: String
    let voices: [String]
    private let script: [Step]
    private let timeout: Duration
    private let state = Mutex<(calls: Int, voices: [String?], languages: [String?])>((0, [], []))

    init(_ name: String, voices: [String] = [], timeout: Duration = .seconds(30), _ script: Step...) {
        self.name = name
        self.voices = voices
        self.script = script.isEmpty ? [.answer] : script
        self.timeout = timeout
    }

    var calls: Int { state.withLock { $0.calls } }
    var voicesAsked: [String?] { state.withLock { $0.voices } }
    var languagesAsked: [String?] { state.withLock { $0.languages } }

    private func step(voice: String? = nil, language: String? = nil, deadline: ContinuousClock.Instant?) async throws {
        let index = state.withLock { state in
            state.calls += 1
            state.voices.append(voice)
            state.languages.append(language)
            return state.calls - 1
        }
        switch script[min(index, script.count - 1)] {
        case .answer: return
        case .fail(let error): throw error
        case .stall:
            let own = ContinuousClock.now + timeout
            try await Task.sleep(until: min(deadline ?? own, own), clock: .continuous)
            throw SpeechError.timeout("\(name): no answer in time")
        }
    }

    func synthesize(_ request: SpeechRequest, deadline: ContinuousClock.Instant?) async throws -> SynthesizedSpeech {
        try await step(voice: request.voice, deadline: deadline)
        return .pcm(PCMAudio(samples: Array(repeating: 1, count: 160), sampleRate: 16_000))
    }

    func transcribe(_ audio: AudioInput, language: String?, deadline: ContinuousClock.Instant?) async throws -> Transcript {
        try await step(language: language, deadline: deadline)
        return Transcript(text: "heard by \(name)", language: language, duration: 2.5)
    }
}

struct SpeechRouterTests {
    static let logger = Logger(label: "speech-router-test")
    static let fast = RoutingSettings(strategy: .priority, deadline: .seconds(10), backoff: .milliseconds(5))

    static func synthesis(_ providers: [ScriptedSpeechProvider], settings: RoutingSettings = fast, retries: Int = 1)
        -> (SpeechSynthesisRouter, LockedValue<[UsageRecord]>)
    {
        let usage = LockedValue([UsageRecord]())
        let router = SpeechSynthesisRouter(
            routes: providers.map { SpeechRoute($0, retryAttempts: retries) }, settings: settings, logger: logger,
            onAttempt: { record in usage.withLock { $0.append(record) } })
        return (router, usage)
    }

    @Test func aFailingProviderIsRetriedThenTheNextAnswers() async throws {
        let broken = ScriptedSpeechProvider("broken", .fail(SpeechError(kind: .httpStatus, status: 500, message: "boom")))
        let local = ScriptedSpeechProvider("local")
        let (router, usage) = Self.synthesis([broken, local])
        let routed = try await router.synthesize(SpeechRequest(text: "hello there"))
        #expect(routed.provider == "local")
        #expect(routed.attempts == 3)
        #expect(broken.calls == 2)
        let records = usage.withLock { $0 }
        #expect(records.map(\.outcome) == ["http_500", "http_500", "ok"])
        #expect(records.allSatisfy { $0.kind == "tts" && $0.quantity == 11 })
        #expect(router.health.first { $0.provider == "broken" }?.statistics.failures ?? 0 >= 2)
    }

    @Test func retryAfterIsHonouredOnTheSameProvider() async throws {
        let limited = ScriptedSpeechProvider("limited", .fail(SpeechError(kind: .httpStatus, status: 429, retryAfter: 0.05, message: "slow down")), .answer)
        let (router, _) = Self.synthesis([limited, ScriptedSpeechProvider("other")])
        let started = ContinuousClock.now
        let routed = try await router.synthesize(SpeechRequest(text: "hi"))
        #expect(routed.provider == "limited")
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    @Test func aStalledProviderTimesOutAndTheNextAnswers() async throws {
        let stalled = ScriptedSpeechProvider("stalled", timeout: .milliseconds(100), .stall)
        let (router, usage) = Self.synthesis([stalled, ScriptedSpeechProvider("local")], retries: 0)
        let routed = try await router.synthesize(SpeechRequest(text: "hi"))
        #expect(routed.provider == "local")
        #expect(usage.withLock { $0.map(\.outcome) } == ["timeout", "ok"])
    }

    @Test func theRequestDeadlineBoundsEveryAttempt() async throws {
        let stalled = ScriptedSpeechProvider("stalled", .stall)
        var settings = Self.fast
        settings.deadline = .milliseconds(200)
        let (router, _) = Self.synthesis([stalled, ScriptedSpeechProvider("stalled too", .stall)], settings: settings)
        let started = ContinuousClock.now
        await #expect(throws: SpeechError.self) { _ = try await router.synthesize(SpeechRequest(text: "hi")) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(stalled.calls == 1)
    }

    @Test func providersOfferingTheVoiceGoFirstThenAnyVoiceThenDefaults() async throws {
        let espeak = ScriptedSpeechProvider("espeak", voices: ["en", "cmn"])
        let remote = ScriptedSpeechProvider("remote")
        let fixed = ScriptedSpeechProvider("fixed", voices: ["alloy"])
        let (router, _) = Self.synthesis([fixed, espeak, remote])
        #expect(try await router.synthesize(SpeechRequest(text: "你好", voice: "cmn")).provider == "espeak")
        #expect(try await router.synthesize(SpeechRequest(text: "hi", voice: "alloy")).provider == "fixed")
        // Nobody lists it: the service taking any name is asked for it before a fixed set's default.
        let other = try await router.synthesize(SpeechRequest(text: "hi", voice: "nova"))
        #expect(other.provider == "remote")
        #expect(remote.voicesAsked.last == "nova")
        #expect(router.voices == ["alloy", "en", "cmn"])
    }

    @Test func aProviderLackingTheVoiceFallsBackToItsDefaultVoice() async throws {
        let remote = ScriptedSpeechProvider("remote", voices: ["alloy"], .fail(SpeechError(kind: .httpStatus, status: 503, message: "down")))
        let espeak = ScriptedSpeechProvider("espeak", voices: ["en"])
        let (router, _) = Self.synthesis([remote, espeak], retries: 0)
        let routed = try await router.synthesize(SpeechRequest(text: "hi", voice: "alloy"))
        #expect(routed.provider == "espeak")
        #expect(routed.voice == nil)
        #expect(espeak.voicesAsked == [nil])
    }

    @Test func unsupportedMovesOnWithoutCountingAgainstTheProvider() async throws {
        let picky = ScriptedSpeechProvider("picky", .fail(.unsupported("no such voice")))
        let (router, _) = Self.synthesis([picky, ScriptedSpeechProvider("local")])
        for _ in 0..<10 { #expect(try await router.synthesize(SpeechRequest(text: "hi")).provider == "local") }
        #expect(picky.calls == 10)  // never retried, never shut out by its breaker
        let health = router.health.first { $0.provider == "picky" }
        #expect(health?.breaker == "closed")
        #expect(health?.statistics.failures == 0)
    }

    @Test func badInputIsThrownAtOnce() async throws {
        let strict = ScriptedSpeechProvider("strict", .fail(.badInput("text too long")))
        let local = ScriptedSpeechProvider("local")
        let (router, _) = Self.synthesis([strict, local])
        await #expect(throws: SpeechError.badInput("text too long")) { _ = try await router.synthesize(SpeechRequest(text: "hi")) }
        #expect(local.calls == 0)
        await #expect(throws: SpeechError.self) { _ = try await router.synthesize(SpeechRequest(text: "")) }
        #expect(strict.calls == 1)
    }

    @Test func refusedCredentialsTakeTheProviderOutOfRotation() async throws {
        let denied = ScriptedSpeechProvider("denied", .fail(SpeechError(kind: .httpStatus, status: 401, message: "bad key")))
        let (router, _) = Self.synthesis([denied, ScriptedSpeechProvider("local")])
        _ = try await router.synthesize(SpeechRequest(text: "hi"))
        _ = try await router.synthesize(SpeechRequest(text: "hi"))
        #expect(denied.calls == 1)
        #expect(router.health.first { $0.provider == "denied" }?.disabled == true)
    }

    @Test func theBreakerOpensAfterTheThreshold() async throws {
        let broken = ScriptedSpeechProvider("broken", .fail(.transport("refused")))
        var settings = Self.fast
        settings.breaker = .init(failureThreshold: 2, recoveryTimeout: .seconds(60))
        let (router, _) = Self.synthesis([broken, ScriptedSpeechProvider("local")], settings: settings, retries: 0)
        for _ in 0..<5 { _ = try await router.synthesize(SpeechRequest(text: "hi")) }
        #expect(broken.calls == 2)
        #expect(router.health.first { $0.provider == "broken" }?.breaker == "open")
    }

    @Test func aCancelledCallerIsNotAFailure() async throws {
        let stalled = ScriptedSpeechProvider("stalled", .stall)
        let (router, usage) = Self.synthesis([stalled])
        let task = Task { try await router.synthesize(SpeechRequest(text: "hi")) }
        while stalled.calls == 0 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(usage.withLock { $0.map(\.outcome) } == ["cancelled"])
        #expect(router.health[0].statistics.failures == 0)
        #expect(router.health[0].breaker == "closed")
    }

    @Test func recognitionMovesOnWhenALanguageIsMissingAndRecordsSeconds() async throws {
        let english = ScriptedSpeechProvider("sphinx", .fail(.unsupported("only English")))
        let remote = ScriptedSpeechProvider("whisper")
        let usage = LockedValue([UsageRecord]())
        let router = SpeechRecognitionRouter(
            routes: [SpeechRoute(english), SpeechRoute(remote)], settings: Self.fast, logger: Self.logger,
            onAttempt: { record in usage.withLock { $0.append(record) } })
        let routed = try await router.transcribe(.encoded([1, 2, 3], format: .wav), language: "zh")
        #expect(routed.provider == "whisper")
        #expect(routed.transcript.text == "heard by whisper")
        #expect(remote.languagesAsked == ["zh"])
        let records = usage.withLock { $0 }
        #expect(records.map(\.outcome) == ["unsupported", "ok"])
        #expect(records.allSatisfy { $0.kind == "stt" })
        #expect(records.last?.quantity == 2.5)
    }

    @Test func withNoProviderTheErrorSaysSo() async throws {
        let router = SpeechRecognitionRouter(routes: [], logger: Self.logger)
        #expect(router.isEmpty)
        await #expect {
            _ = try await router.transcribe(.pcm(PCMAudio(samples: [], sampleRate: 16_000)))
        } throws: { error in
            (error as? SpeechError)?.kind == .notConfigured
        }
    }
}

/// Speech through the `cpu` lane.
struct SpeechEngineTests {
    static func engine(_ synthesizers: [ScriptedSpeechProvider], lane: Lane) -> SpeechEngine {
        SpeechEngine(
            synthesis: SpeechSynthesisRouter(routes: synthesizers.map { SpeechRoute($0) }, settings: SpeechRouterTests.fast, logger: SpeechRouterTests.logger),
            recognition: SpeechRecognitionRouter(routes: synthesizers.map { SpeechRoute($0) }, settings: SpeechRouterTests.fast, logger: SpeechRouterTests.logger),
            lane: lane)
    }

    @Test func speechRunsInTheLaneAndAFullLaneSaysBusy() async throws {
        let lane = Lane(name: "cpu", maxConcurrent: 1, queueLimit: 1)
        let running = Task { await lane.run() }
        defer {
            lane.close()
            running.cancel()
        }
        let stalled = ScriptedSpeechProvider("stalled", timeout: .seconds(30), .stall)
        let engine = Self.engine([stalled], lane: lane)
        #expect(try await Self.engine([ScriptedSpeechProvider("ok")], lane: lane).transcribe(.encoded([0], format: nil)).provider == "ok")
        // One job runs (stalled), one waits in the queue; the third is refused at once.
        let first = Task { try await engine.synthesize(SpeechRequest(text: "one")) }
        while stalled.calls == 0 { await Task.yield() }
        let second = Task { try await engine.synthesize(SpeechRequest(text: "two")) }
        while lane.queuedCount == 0 { await Task.yield() }
        await #expect {
            _ = try await engine.synthesize(SpeechRequest(text: "three"))
        } throws: { error in
            (error as? SpeechError)?.kind == .busy
        }
        // The waiting caller leaves: its job never reaches a provider. The running one is cancelled.
        second.cancel()
        await #expect(throws: CancellationError.self) { _ = try await second.value }
        first.cancel()
        await #expect(throws: CancellationError.self) { _ = try await first.value }
        // Once the lane is idle, a marker job runs; the cancelled waiting job never called the provider.
        while lane.queuedCount > 0 || lane.runningCount > 0 { try await Task.sleep(for: .milliseconds(1)) }
        let marker = ScriptedSpeechProvider("marker")
        _ = try await Self.engine([marker], lane: lane).synthesize(SpeechRequest(text: "marker"))
        #expect(marker.calls == 1)
        #expect(stalled.calls == 1)
    }
}
