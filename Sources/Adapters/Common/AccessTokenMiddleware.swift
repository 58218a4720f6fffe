// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging

/// Lets a request through when it carries the expected token (`Authorization: Bearer …`, and the
/// `access_token` query parameter where allowed), compared in constant time; otherwise throws a
/// ``HubError``: 401 when no token was sent, 403 when it was wrong. Put it on a route group.
///
/// ```swift
/// router.group("/admin").add(middleware: AccessTokenMiddleware(token: adminKey, name: "admin key", whenUnset: .closed("the admin API is off")))
/// ```
public struct AccessTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What happens when no token is configured.
    public enum WhenUnset: Sendable {
        /// Everyone may pass.
        case open
        /// No one may pass; the message says how to turn the routes on.
        case closed(String)
    }

    let token: String?
    /// How the token is called in refusals ("access token", "admin key").
    let name: String
    let whenUnset: WhenUnset
    let acceptsQuery: Bool

    public init(token: String?, name: String, whenUnset: WhenUnset = .open, acceptsQuery: Bool = false) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
        self.whenUnset = whenUnset
        self.acceptsQuery = acceptsQuery
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            switch whenUnset {
            case .open: return try await next(request, context)
            case .closed(let message): throw HubError(.forbidden, message)
            }
        }
        let query = acceptsQuery ? request.uri.query : nil
        switch AccessCredentials.check(authorization: request.headers[.authorization], query: query, expected: token) {
        case .ok:
            return try await next(request, context)
        case .missing:
            context.logger.notice("request without \(name) refused", metadata: ["hub.path": "\(request.uri.path)"])
            throw HubError(.unauthorized, "\(name) required (Authorization: Bearer …\(acceptsQuery ? " or ?access_token=" : ""))")
        case .wrong:
            context.logger.notice("request with a wrong \(name) refused", metadata: ["hub.path": "\(request.uri.path)"])
            throw HubError(.forbidden, "\(name) does not match")
        }
    }
}
