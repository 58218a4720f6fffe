// SPDX-License-Identifier: Apache-2.0

/// Something that answers chat requests: an OpenAI-compatible HTTP service, a local model server.
///
/// Failures of the provider itself are thrown as ``ChatProviderError``; an error thrown by the
/// `onDelta` callback of ``stream(_:onDelta:)`` (a reader that went away) is passed through as is.
public protocol ChatProvider: Sendable {
    /// The provider's configured name.
    var name: String { get }
    /// The models it serves.
    var models: [String] { get }
    /// Answers `request` in one piece. It ends by `deadline` when one is given (the turn's, from the
    /// router, which relies on it), and by the provider's own timeout in any case, throwing a
    /// ``ChatProviderError`` of kind `timeout` when either passed first.
    func complete(_ request: ChatRequest, deadline: ContinuousClock.Instant?) async throws -> ChatCompletion
    /// Answers `request` piece by piece, calling `onDelta` for each delta as it arrives, and returns
    /// the whole answer once the stream has finished; the deadlines as for ``complete(_:deadline:)``.
    func stream(
        _ request: ChatRequest, deadline: ContinuousClock.Instant?, onDelta: @Sendable (ChatDelta) async throws -> Void
    ) async throws -> ChatCompletion
}

extension ChatProvider {
    /// Answers `request` in one piece, within the provider's own timeout.
    public func complete(_ request: ChatRequest) async throws -> ChatCompletion {
        try await complete(request, deadline: nil)
    }

    /// Streams the answer to `request`, within the provider's own timeout.
    public func stream(_ request: ChatRequest, onDelta: @Sendable (ChatDelta) async throws -> Void) async throws -> ChatCompletion {
        try await stream(request, deadline: nil, onDelta: onDelta)
    }
}
