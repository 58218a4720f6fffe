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

    public init(
        routes: [SpeechRoute<any SpeechRecognizer>], settings: RoutingSettings = RoutingSettings(deadline: .seconds(60)), logger: Logger,
        onAttempt: @escaping @Sendable (UsageRecord) -> Void = { _ in }
    ) {
        self.onAttempt = onAttempt
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
}
