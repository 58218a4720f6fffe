// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import Logging

/// The hub's speech, built from `tts:`, `stt:`, `voice:` and `lanes.cpu`: the providers in their
/// configured order, a router for each direction, the ``SpeechEngine`` on the `cpu` lane, and the
/// composer that speaks answers for sessions with `/voice on`.
struct SpeechComponents: Sendable {
    let engine: SpeechEngine
    let composer: SpokenReplyComposer
    /// The `cpu` lane speech runs in (a service of the application).
    let lane: Lane

    init(_ configuration: HubConfiguration, client: HTTPClient, usage: UsageLedger, metrics: HubMetrics, logger: Logger) {
        let tts = configuration.tts
        let stt = configuration.stt
        let synthesizers: [SpeechRoute<any SpeechSynthesizer>] = tts.providers.map { provider in
            let voices = provider.voices.map(\.name)
            let defaultVoice = tts.voice.flatMap { voices.contains($0) ? $0 : nil }
            let synthesizer: any SpeechSynthesizer =
                switch provider.kind {
                case "openai":
                    OpenAISpeechSynthesizer(
                        configuration: .init(
                            name: provider.name, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey?.value, model: provider.model ?? "tts-1",
                            voices: voices, defaultVoice: defaultVoice, timeout: .seconds(provider.timeout)),
                        client: client, logger: logger)
                default:
                    ESpeakSynthesizer(
                        name: provider.name, voices: voices.isEmpty ? ["en-us", "en", "cmn", "yue"] : voices, defaultVoice: defaultVoice,
                        pitch: provider.pitch)
                }
            return SpeechRoute(
                synthesizer, priority: provider.priority, maxConcurrent: provider.maxConcurrent, retryAttempts: provider.retryAttempts,
                cost: provider.costPer1kCharacters)
        }
        let recognizers: [SpeechRoute<any SpeechRecognizer>] = stt.providers.map { provider in
            let recognizer: any SpeechRecognizer
            switch provider.kind {
            case "openai":
                recognizer = OpenAITranscriber(
                    configuration: .init(
                        name: provider.name, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey?.value, model: provider.model ?? "whisper-1",
                        timeout: .seconds(provider.timeout), maxUploadBytes: stt.maxUploadBytes),
                    client: client, logger: logger)
            default:
                let search: PocketSphinxConfiguration.Search =
                    if let grammar = provider.grammar {
                        .grammar(jsgf: grammar)
                    } else if !provider.keywords.isEmpty {
                        .keywords(provider.keywords)
                    } else {
                        .languageModel
                    }
                // Its model loads on the first recognition (about half a second), not at start.
                recognizer = PocketSphinxRecognizer(PocketSphinxConfiguration(name: provider.name, search: search, poolSize: provider.poolSize))
            }
            return SpeechRoute(
                recognizer, priority: provider.priority, maxConcurrent: provider.maxConcurrent, retryAttempts: provider.retryAttempts,
                cost: provider.costPerMinute)
        }
        let record: @Sendable (UsageRecord) -> Void = { record in
            usage.record(record)
            metrics.speechAttempt(kind: record.kind, provider: record.provider, outcome: record.outcome, duration: record.latency)
        }
        let routing = RoutingSettings(strategy: .priority, deadline: .seconds(60))
        lane = Lane(name: "cpu", maxConcurrent: configuration.lanes.cpu.maxConcurrent, queueLimit: configuration.lanes.cpu.queue, metrics: metrics)
        engine = SpeechEngine(
            synthesis: SpeechSynthesisRouter(routes: synthesizers, settings: routing, logger: logger, onAttempt: record),
            recognition: SpeechRecognitionRouter(routes: recognizers, settings: routing, logger: logger, onAttempt: record),
            lane: lane)
        let voice = configuration.voice
        composer = SpokenReplyComposer(
            speech: engine,
            settings: VoiceReplySettings(
                mode: VoiceReplySettings.Mode(rawValue: voice.reply) ?? .textAndVoice, maxClipSeconds: voice.maxClipSeconds,
                maxClips: voice.maxClips, voice: tts.voice))
    }
}
