// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// An error of the OpenAI-compatible API, in OpenAI's shape and with its status:
/// `{"error":{"message","type","param","code"}}`.
///
/// ```swift
/// throw OpenAIError.invalidRequest("`n` must be 1 here.", param: "n")
/// ```
public struct OpenAIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    /// `invalid_request_error`, `rate_limit_error`, `api_error`, …
    public let type: String
    /// The request field at fault, when one is.
    public let param: String?
    public let code: String?
    /// Seconds for `Retry-After`, when retrying later may help.
    public let retryAfter: Int?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    /// A 400 naming the field at fault.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> Self {
        Self(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// The router's failure as OpenAI would report it.
    public init(_ error: ChatProviderError) {
        switch error.kind {
        case .notConfigured:
            // Nothing could be tried: every route saturated, its breaker open, or out of rotation.
            self.init(
                status: .tooManyRequests, message: "Every provider for this model is busy or unavailable; retry shortly.",
                type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: 1)
        case .timeout:
            self.init(status: .gatewayTimeout, message: "The upstream did not answer in time.", type: "api_error", code: "timeout")
        case .httpStatus where error.status == 429:
            self.init(
                status: .tooManyRequests, message: "Every provider for this model is rate limited; retry shortly.", type: "rate_limit_error",
                code: "rate_limit_exceeded", retryAfter: max(1, Int((error.retryAfter ?? 1).rounded(.up))))
        case .httpStatus where (400..<500).contains(error.status ?? 0):
            self.init(status: .init(code: error.status ?? 400), message: error.message, type: "invalid_request_error")
        default:
            self.init(status: .badGateway, message: "The upstream failed: \(error.message)", type: "api_error")
        }
    }

    /// The error object alone, as a stream's error event carries it.
    var body: Body { Body(error: .init(message: message, type: type, param: param, code: code)) }

    struct Body: Encodable {
        struct Detail: Encodable {
            var message: String
            var type: String
            var param: String?
            var code: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                // OpenAI always sends both, as null when they do not apply.
                try container.encode(param, forKey: .param)
                try container.encode(code, forKey: .code)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }

        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let data = try JSONEncoder().encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
