// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one HTTP exchange the speech and image clients make: a POST whose answer is read whole,
/// under a deadline, with its failures turned into ``ServiceFailure``s; ``postJSON(_:as:url:deadline:what:)``
/// adds encoding the request and decoding the answer as JSON.
///
/// The deadline is the earlier of the caller's and `timeout` from now. It bounds the response head
/// (through `HTTPClient`'s own deadline and a race) and the body (a race: `HTTPClient` stops timing
/// at the head). An error status is reported with the provider's message from a JSON error body
/// (`{"error":{"message":…}}`), read under the same deadline, and its `Retry-After`.
struct ServiceClient: Sendable {
    /// A successful answer.
    struct Answer: Sendable {
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let name: String
    let client: HTTPClient
    let apiKey: String?
    let timeout: Duration
    let maxResponseBytes: Int

    /// Largest error body read for its message.
    static let maxErrorBodyBytes = 64 << 10

    func post(
        url: String, contentType: String, accept: String, body: [UInt8], deadline callerDeadline: ContinuousClock.Instant?
    ) async throws -> Answer {
        let now = ContinuousClock.now
        let deadline = callerDeadline.map { min($0, now + timeout) } ?? now + timeout
        let expired = SpeechError.timeout("\(name): no complete answer in time")
        guard deadline > now else { throw expired }

        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: accept)
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(ByteBuffer(bytes: body))

        let client = client
        let prepared = request
        let nioDeadline = NIODeadline.now() + TimeAmount(deadline - now)
        let response: HTTPClientResponse
        do {
            response = try await withDeadline(deadline, expired: { expired }) {
                try await client.execute(prepared, deadline: nioDeadline)
            }
        } catch {
            throw map(error)
        }

        guard (200..<300).contains(response.status.code) else {
            let detail =
                (try? await withDeadline(deadline, expired: { expired }) {
                    try await response.body.collect(upTo: Self.maxErrorBodyBytes)
                }).map { OpenAICompatibleProvider.errorMessage(from: $0) } ?? ""
            throw SpeechError(
                kind: .httpStatus, status: Int(response.status.code),
                retryAfter: RetryAfter.seconds(fromHeader: response.headers.first(name: "Retry-After")),
                message: detail.isEmpty ? response.status.reasonPhrase : detail)
        }

        let maxResponseBytes = maxResponseBytes
        do {
            let body = try await withDeadline(deadline, expired: { expired }) {
                try await response.body.collect(upTo: maxResponseBytes)
            }
            return Answer(headers: response.headers, body: body)
        } catch {
            throw map(error)
        }
    }

    /// A failure of the exchange as a ``SpeechError``; cancellation stays a `CancellationError`.
    /// POSTs `request` as JSON and decodes the answer as `Answer`. A request that cannot be encoded
    /// is `badInput`; an answer that is not `Answer` is `malformed` ("the answer is not `what`").
    func postJSON<Request: Encodable, Answer: Decodable>(
        _ request: Request, as answer: Answer.Type, url: String, deadline: ContinuousClock.Instant?, what: String
    ) async throws -> Answer {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(request))
        } catch {
            throw ServiceFailure.badInput("\(name): the request cannot be encoded: \(error)")
        }
        let answered = try await post(url: url, contentType: "application/json", accept: "application/json", body: body, deadline: deadline)
        guard let decoded = try? JSONDecoder().decode(Answer.self, from: Data(answered.body.readableBytesView)) else {
            throw ServiceFailure.malformed("\(name): the answer is not \(what)")
        }
        return decoded
    }

    private func map(_ error: any Error) -> any Error {
        if let error = error as? SpeechError { return error }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if error is NIOTooManyBytesError { return SpeechError.malformed("\(name): response larger than \(maxResponseBytes) bytes") }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return SpeechError.timeout("\(name): \(error)")
            default:
                break
            }
        }
        return SpeechError.transport("\(name): \(error)")
    }
}
