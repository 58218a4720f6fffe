// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Engine
import NIOCore
import NIOHTTP1

/// Calls actions on an implementation's forward HTTP API (`POST <base>/<action>`, ONEBOT11.md §1.1).
struct OneBotHTTPAPI: Sendable {
    let client: HTTPClient
    let accessToken: String?

    func call(baseURL: String, action: String, params: JSONValue, timeout: Duration) async throws -> OneBotActionResponse {
        var request = HTTPClientRequest(url: baseURL.hasSuffix("/") ? baseURL + action : baseURL + "/" + action)
        request.method = .POST
        // Exactly this value: Lagrange answers 406 to anything else.
        request.headers.add(name: "Content-Type", value: "application/json")
        if let accessToken, !accessToken.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        }
        var body = [UInt8]()
        params.write(into: &body)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .init(timeout))
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw OneBotActionError(.timeout, detail: "\(action) over HTTP API: \(error)")
        } catch {
            throw OneBotActionError(.connectionLost, detail: "\(action) over HTTP API: \(error)")
        }
        switch response.status.code {
        case 200..<300:
            guard let json = try? JSONValue(parsing: bytes.readableBytesView), let parsed = OneBotActionResponse(json: json) else {
                throw OneBotActionError(.failed, detail: "HTTP API answered \(action) with a body that is not an action response")
            }
            if parsed.succeeded { return parsed }
            throw OneBotActionError(.failed, response: parsed)
        case 401, 403:
            throw OneBotActionError(.failed, response: OneBotActionResponse(status: "failed", retcode: Int64(response.status.code), message: "HTTP API rejected the access token"))
        case 404:
            throw OneBotActionError(.failed, response: OneBotActionResponse(status: "failed", retcode: 404, message: "action not supported"))
        default:
            throw OneBotActionError(.failed, response: OneBotActionResponse(status: "failed", retcode: Int64(response.status.code), message: "HTTP \(response.status.code)"))
        }
    }
}
