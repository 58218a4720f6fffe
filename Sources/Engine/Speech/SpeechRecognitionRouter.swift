// SPDX-License-Identifier: Apache-2.0
import Logging

/// Recognizes speech with the first provider that can, with the LLM router's semantics
/// (``ProviderRouter``), and a usage row per attempt (kind `stt`, the audio's seconds as quantity).
/// A provider that lacks the language moves the request on to the next without counting against it.
public final class SpeechRecognitionRouter: Sendable {
    /// A transcript and who made it.
    public struct Routed: Sendable {
        public var transcript: Transcript
        public var provider: String
        public var attempts: Int
    }

    private let router: ProviderRouter<SpeechRoute<any SpeechRecognizer>>
    private let onAttempt: @Sendable (UsageRecord) -> Void
    private let logger: Logger

    public init(
        routes: [SpeechRoute<any SpeechRecognizer>], settings: RoutingSettings = RoutingSettings(deadline: .seconds(60)), logger: Logger,
        onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }
    ) {
        self.onAttempt = onAttempt
        self.logger = logger
        router = SpeechRouting.router(routes, name: \.name, settings: settings, kind: "STT", logger: logger)
    }

    /// Every provider's breaker, rotation and statistics.
    public var health: [RouteHealth] { router.health }

    public var isEmpty: Bool { router.routes.isEmpty }

    public func transcribe(_ audio: AudioInput, language: String? = nil) async throws -> Routed {
        let knownSeconds: Double? = if case .pcm(let pcm) = audio { pcm.seconds } else { nil }
        let (transcript, route, attempts) = try await router.run(
            router.candidates { _ in true }, describing: "language \(language ?? "any")",
            onAttempt: { (attempt, transcript: Transcript?) in
                let seconds = transcript?.duration ?? knownSeconds ?? 0
                self.onAttempt(
                    UsageRecord(
                        kind: "stt", provider: attempt.route.providerName, model: attempt.route.model, outcome: attempt.outcome,
                        quantity: seconds, cost: seconds / 60 * (attempt.route.costPerUnit ?? 0), latency: attempt.latency))
            }
        ) { route, deadline -> Transcript in
            try await route.provider.provider.transcribe(audio, language: language, deadline: deadline)
        }
        return Routed(transcript: transcript, provider: route.providerName, attempts: attempts)
    }

    // MARK: - Live recognition

    /// The providers that can recognize an utterance while it is spoken, by name.
    public var liveProviders: Set<String> {
        Set(router.routes.filter { $0.provider.provider is any LiveSpeechRecognizer }.map(\.providerName))
    }

    /// Loads the first live recognizer's models now (PocketSphinx: a quarter to half a second per
    /// decoder), so that the first utterance does not wait for them; nothing when there is none.
    public func prepareLive() async {
        guard let live = liveRoute() else { return }
        do {
            try await live.recognizer.prepare()
        } catch {
            logger.warning("live recognizer could not be prepared", metadata: ["hub.provider": "\(live.provider)", "error": "\(error)"])
        }
    }

    /// The provider the router would try first, when that one can recognize while speech is
    /// spoken (and its breaker is not open); else nil.
    func liveRoute() -> LiveRoute? {
        guard let first = router.candidates(preferring: { _ in true }).first else { return nil }
        let route = router.routes[first]
        guard let recognizer = route.provider.provider as? any LiveSpeechRecognizer, router.health[first].breaker != "open" else { return nil }
        return LiveRoute(recognizer: recognizer, provider: route.providerName, model: route.model, costPerUnit: route.costPerUnit)
    }

    /// Accounts for a live recognition as for a routed attempt: a usage row (kind `stt`, the
    /// audio's seconds) and the attempt's metrics. `latency` is what the caller waited for the text.
    func recordLive(_ live: LiveRoute, outcome: String, seconds: Double, latency: Duration) {
        onAttempt(
            UsageRecord(
                kind: "stt", provider: live.provider, model: live.model, outcome: outcome, quantity: seconds,
                cost: seconds / 60 * (live.costPerUnit ?? 0), latency: latency))
    }

    /// A route whose provider recognizes while speech is spoken.
    struct LiveRoute: Sendable {
        var recognizer: any LiveSpeechRecognizer
        var provider: String
        var model: String
        var costPerUnit: Double?
    }
}
