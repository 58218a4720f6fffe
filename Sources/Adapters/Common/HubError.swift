// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error of the hub's own routes (the doors' REST endpoints, operations, admin), thrown and
/// rendered by Hummingbird as `{"error":{"message": …}}` with its status and headers.
///
/// ```swift
/// throw HubError(.unauthorized, "access token required")
/// ```
public struct HubError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    /// Extra response headers (`Retry-After`, `Allow`, `Upgrade`).
    public let headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message)" }

    /// The body every error of the hub carries, `{"error":{"message": message}}`: the routes'
    /// errors, a refused WebSocket upgrade and the answers the server writes below the router.
    public static func body(_ message: String) -> JSONValue {
        .object(["error": .object(["message": .string(message)])])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.jsonError(status, message)
        for field in headers { response.headers.append(field) }
        return response
    }
}
