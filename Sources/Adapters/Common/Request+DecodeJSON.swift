// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// The JSON body as `T`, at most `maxBytes`; every failure (too large, not JSON, a field
    /// missing, null or of the wrong type) becomes the route's own error through `fail`, which
    /// gets the status and a message naming the field.
    func decodeJSON<T: Decodable>(
        _ type: T.Type, maxBytes: Int, error fail: (HTTPResponse.Status, String) -> any Error
    ) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await self.body.collect(upTo: maxBytes)
        } catch {
            throw fail(.contentTooLarge, "The request body is larger than \(maxBytes) bytes.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            // An array, a string or a number where the object should be.
            throw fail(.badRequest, "The body must be a JSON object.")
        } catch let DecodingError.valueNotFound(_, context) where context.codingPath.isEmpty {
            throw fail(.badRequest, "The body must be a JSON object, not null.")
        } catch let DecodingError.keyNotFound(key, _) {
            throw fail(.badRequest, "`\(key.stringValue)` is missing.")
        } catch let DecodingError.typeMismatch(_, context) {
            throw fail(.badRequest, "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` has the wrong type.")
        } catch let DecodingError.valueNotFound(_, context) {
            throw fail(.badRequest, "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` is null.")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw fail(.badRequest, "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` is not valid: \(context.debugDescription)")
        } catch {
            throw fail(.badRequest, "The body is not valid JSON.")
        }
    }
}

extension Response {
    /// `value` encoded as a JSON body (keys sorted, slashes unescaped) with `status`.
    static func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
