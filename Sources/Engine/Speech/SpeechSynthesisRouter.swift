// SPDX-License-Identifier: Apache-2.0
import Logging

/// Synthesizes speech with the first provider that can, with the LLM router's semantics
/// (``ProviderRouter``): ordered or weighted providers, a deadline for all attempts, retries with
/// backoff, a breaker per provider, fallback, and a usage row per attempt (kind `tts`, the text's
/// characters as quantity).
///
/// Providers offering the requested voice go first, then those taking any voice name, then the
/// rest, which speak with their own default voice: an answer in another voice beats no answer.
public final class SpeechSynthesisRouter: Sendable {
    /// Speech and who made it.
    public struct Routed: Sendable {
        public var speech: SynthesizedSpeech
        public var provider: String
        /// The voice asked of the provider (nil: its default).
        public var voice: String?
        public var attempts: Int
    }

    private let router: ProviderRouter<SpeechRoute<any SpeechSynthesizer>>
    private let onAttempt: @Sendable (UsageRecord) -> Void

    public init(
        routes: [SpeechRoute<any SpeechSynthesizer>], settings: RoutingSettings = RoutingSettings(deadline: .seconds(30)), logger: Logger,
        onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }
    ) {
        self.onAttempt = onAttempt
        router = SpeechRouting.router(routes, name: \.name, settings: settings, kind: "TTS", logger: logger)
    }

    /// Every provider's breaker, rotation and statistics.
    public var health: [RouteHealth] { router.health }

    /// The voices the providers offer, in their order (names repeated across providers once).
    public var voices: [String] {
        var seen = Set<String>()
        return router.routes.flatMap(\.provider.provider.voices).filter { seen.insert($0).inserted }
    }

    public var isEmpty: Bool { router.routes.isEmpty }

    public func synthesize(_ request: SpeechRequest) async throws -> Routed {
        guard !request.text.isEmpty else { throw SpeechError.badInput("nothing to say: the text is empty") }
        let wanted = request.voice
        var order = router.candidates { route in wanted.map { route.provider.provider.voices.contains($0) } ?? true }
        if wanted != nil {
            // Among the rest, services that take any voice name before engines with a fixed set.
            let listed = order.prefix { router.routes[$0].provider.provider.voices.contains(wanted!) }
            let rest = order.dropFirst(listed.count)
            order = Array(listed) + rest.filter { router.routes[$0].provider.provider.voices.isEmpty }
                + rest.filter { !router.routes[$0].provider.provider.voices.isEmpty }
        }
        let characters = Double(request.text.count)
        let (speech, route, attempts) = try await router.run(
            order, describing: "voice \(wanted ?? "default")",
            onAttempt: { (attempt, _: SynthesizedSpeech?) in
                self.onAttempt(
                    UsageRecord(
                        kind: "tts", provider: attempt.route.providerName, model: attempt.route.model, outcome: attempt.outcome,
                        quantity: characters, cost: characters / 1000 * (attempt.route.costPerUnit ?? 0), latency: attempt.latency))
            }
        ) { route, deadline -> SynthesizedSpeech in
            var adjusted = request
            adjusted.voice = Self.voice(wanted, on: route.provider.provider)
            return try await route.provider.provider.synthesize(adjusted, deadline: deadline)
        }
        return Routed(speech: speech, provider: route.providerName, voice: Self.voice(wanted, on: route.provider.provider), attempts: attempts)
    }

    /// The voice to ask of `synthesizer`: the wanted one when it has it or takes any name, else its default.
    static func voice(_ wanted: String?, on synthesizer: any SpeechSynthesizer) -> String? {
        guard let wanted else { return nil }
        return synthesizer.voices.isEmpty || synthesizer.voices.contains(wanted) ? wanted : nil
    }
}
