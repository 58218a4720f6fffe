// SPDX-License-Identifier: Apache-2.0
import Engine

/// A streamed answer from the router, started before the HTTP response is committed.
///
/// ``start(_:router:onFinished:)`` returns once the first delta has arrived (or the answer ended),
/// and throws when every route failed before that, so an endpoint can still answer with a real
/// error status (429, 502, 504) instead of `200` and an error event.
struct RoutedStream: Sendable {
    /// The deltas with the model of the route that wrote them; throws when the stream breaks later.
    let events: AsyncThrowingStream<(model: String, delta: ChatDelta), any Error>
    /// Runs the router; cancel it when the client goes away.
    let producer: Task<Void, Never>

    static func start(
        _ request: ChatRequest, router: ChatRouter, onFinished: @escaping @Sendable (ChatRouter.Routed) async -> Void = { _ in }
    ) async throws -> RoutedStream {
        let (events, sink) = AsyncThrowingStream.makeStream(of: (model: String, delta: ChatDelta).self)
        let (started, startSignal) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        // The router runs on while the response streams, so it cannot be a child of the handler.
        let producer = Task {
            do {
                let routed = try await router.stream(request) { model, delta in
                    startSignal.yield(.success(()))
                    startSignal.finish()
                    sink.yield((model, delta))
                }
                startSignal.yield(.success(()))
                startSignal.finish()
                await onFinished(routed)
                sink.finish()
            } catch {
                startSignal.yield(.failure(error))
                startSignal.finish()
                sink.finish(throwing: error)
            }
        }
        for await outcome in started {
            if case .failure(let error) = outcome { throw error }
            break
        }
        return RoutedStream(events: events, producer: producer)
    }
}
