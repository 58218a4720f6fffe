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
    /// Answers `request` in one piece.
    func complete(_ request: ChatRequest) async throws -> ChatCompletion
    /// Answers `request` piece by piece, calling `onDelta` for each delta as it arrives, and returns
    /// the whole answer once the stream has finished.
    func stream(_ request: ChatRequest, onDelta: @Sendable (ChatDelta) async throws -> Void) async throws -> ChatCompletion
}
