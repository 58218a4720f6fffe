// SPDX-License-Identifier: Apache-2.0
import CoreMetrics
import Metrics

/// The hub's metrics, created against one `MetricsFactory` (Prometheus in the app; a fresh
/// registry per test) so that nothing depends on the process-global metrics system.
public struct HubMetrics: Sendable {
    let factory: any MetricsFactory
    private let handles = MetricHandles()

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func counter(label: String, dimensions: [(String, String)]) -> Counter {
        handles.handle(.counter, label, dimensions) { Counter(label: label, dimensions: dimensions, factory: factory) }
    }

    func floatingCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounter {
        handles.handle(.floatingCounter, label, dimensions) { FloatingPointCounter(label: label, dimensions: dimensions, factory: factory) }
    }

    func timer(label: String, dimensions: [(String, String)]) -> Timer {
        handles.handle(.timer, label, dimensions) { Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    func gauge(label: String, dimensions: [(String, String)]) -> Gauge {
        handles.handle(.gauge, label, dimensions) { Gauge(label: label, dimensions: dimensions, factory: factory) }
    }

    /// A factory that records nothing.
    public static let disabled = HubMetrics(factory: NOOPMetricsHandler.instance)

    /// An event arrived through `door` (`onebot`, `web`, …); `type` is the platform's kind
    /// (`message`, `notice`, `meta_event`, …).
    public func eventReceived(door: String, type: String) {
        counter(label: "hub_events_total", dimensions: [("door", door), ("type", type)]).increment()
    }

    /// A duplicate of an earlier event was dropped.
    public func duplicateDropped(door: String) {
        counter(label: "hub_duplicates_dropped_total", dimensions: [("door", door)]).increment()
    }

    /// A reply went out (`outcome`: `sent`, `failed`, `queued`).
    public func replySent(door: String, outcome: String) {
        counter(label: "hub_replies_total", dimensions: [("door", door), ("outcome", outcome)]).increment()
    }

    /// An event was refused because its lane was full.
    public func laneRefused(lane: String) {
        counter(label: "hub_lane_refused_total", dimensions: [("lane", lane)]).increment()
    }

    /// One LLM request finished after `duration`; `outcome` is `ok` or an error kind.
    public func llmRequest(provider: String, model: String, outcome: String, duration: Duration) {
        timer(label: "hub_llm_request_duration_seconds", dimensions: [("provider", provider), ("model", model), ("outcome", outcome)]).recordNanoseconds(duration.nanoseconds)
    }

    /// One attempt of a speech provider finished after `duration`: `kind` is `tts` or `stt`,
    /// `outcome` `ok`, `cancelled` or the failure (`timeout`, `http_503`, …).
    public func speechAttempt(kind: String, provider: String, outcome: String, duration: Duration) {
        timer(label: "hub_speech_request_duration_seconds", dimensions: [("kind", kind), ("provider", provider), ("outcome", outcome)]).recordNanoseconds(duration.nanoseconds)
    }

    /// One attempt of an image generator finished after `duration`: `outcome` is `ok`, `cancelled`
    /// or the failure (`timeout`, `malformed`, `http_503`, …).
    public func imageAttempt(provider: String, outcome: String, duration: Duration) {
        timer(label: "hub_image_request_duration_seconds", dimensions: [("provider", provider), ("outcome", outcome)]).recordNanoseconds(duration.nanoseconds)
    }

    /// Images a generator delivered.
    public func imagesGenerated(provider: String, count: Int) {
        counter(label: "hub_images_generated_total", dimensions: [("provider", provider)]).increment(by: count)
    }

    /// How many bots are connected on `door`.
    public func connectedBots(door: String, count: Int) {
        gauge(label: "hub_connected_bots", dimensions: [("door", door)]).record(count)
    }

    /// How many chat clients (web pages) hold a connection open on `door`.
    public func connectedClients(door: String, count: Int) {
        gauge(label: "hub_connected_clients", dimensions: [("door", door)]).record(count)
    }

    /// One provider route as its router sees it now (recorded when `/metrics` is read): the
    /// breaker (`hub_breaker_state` 0 closed, 1 half open, 2 open) and whether the route is out of
    /// rotation because the provider refused the credentials (`hub_route_disabled` 1). `kind` is
    /// `llm`, `tts`, `stt` or `image`.
    public func route(kind: String, _ health: RouteHealth) {
        let dimensions = [("kind", kind), ("provider", health.provider), ("model", health.model)]
        let state =
            switch health.breaker {
            case "open": 2
            case "half_open": 1
            default: 0
            }
        gauge(label: "hub_breaker_state", dimensions: dimensions).record(state)
        gauge(label: "hub_route_disabled", dimensions: dimensions).record(health.disabled ? 1 : 0)
    }

    /// A cache operation went to the in-process fallback because Redis failed.
    public func cacheFallback(operation: String) {
        counter(label: "hub_cache_fallbacks_total", dimensions: [("operation", operation)]).increment()
    }

    /// Whether Redis is reachable (1) or the hub runs on its in-process fallback (0).
    public func redisUp(_ up: Bool) {
        gauge(label: "redis_up", dimensions: []).record(up ? 1 : 0)
    }

    /// A message was refused by a rate limit (`notified`: the user was told to slow down).
    public func rateLimited(door: String, notified: Bool) {
        counter(label: "hub_rate_limited_total", dimensions: [("door", door), ("notified", notified ? "yes" : "no")])
            .increment()
    }

    /// An LLM answer came from the response cache (`hit`) or had to be fetched (`miss`).
    public func responseCache(_ outcome: String) {
        counter(label: "hub_llm_cache_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// Frames or requests that were rejected as malformed.
    public func malformedInput(door: String, reason: String) {
        counter(label: "hub_malformed_input_total", dimensions: [("door", door), ("reason", reason)])
            .increment()
    }

    // MARK: Streaming recognition (`/api/v1/stream`)

    /// How many streaming recognition sessions are open.
    public func voiceStreamSessions(_ count: Int) {
        gauge(label: "hub_voice_stream_sessions", dimensions: []).record(count)
    }

    /// A streaming recognition session received `seconds` of audio.
    public func voiceStreamAudio(seconds: Double) {
        floatingCounter(label: "hub_voice_stream_audio_seconds_total", dimensions: []).increment(by: seconds)
    }

    /// A final transcript went out, `delay` after its utterance's end was detected; `live`: the
    /// utterance was recognized while spoken (else whole at its end).
    public func voiceStreamFinal(live: Bool, delay: Duration) {
        let mode = live ? "live" : "whole"
        counter(label: "hub_voice_stream_finals_total", dimensions: [("mode", mode)]).increment()
        timer(label: "hub_voice_stream_final_delay_seconds", dimensions: [("mode", mode)]).recordNanoseconds(delay.nanoseconds)
    }

    /// A partial transcript went out.
    public func voiceStreamPartial() {
        counter(label: "hub_voice_stream_partials_total", dimensions: []).increment()
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled + attoseconds / 1_000_000_000
    }
}
