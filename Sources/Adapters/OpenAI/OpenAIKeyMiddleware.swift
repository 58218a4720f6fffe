// SPDX-License-Identifier: Apache-2.0
import Engine
import Hummingbird

/// Lets a request through when it carries one of the gateway's API keys as
/// `Authorization: Bearer <key>` (compared in constant time); no keys configured: open.
public struct OpenAIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: [String]

    public init(keys: [String]) {
        self.keys = keys
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty else { return try await next(request, context) }
        guard let presented = request.bearerToken else {
            throw OpenAIError(
                status: .unauthorized, message: "Missing API key: send Authorization: Bearer <key>.", type: "invalid_request_error",
                code: "invalid_api_key")
        }
        guard keys.contains(where: { ConstantTime.equal($0, presented) }) else {
            throw OpenAIError(status: .unauthorized, message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}
