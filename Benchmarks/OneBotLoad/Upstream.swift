// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird

/// An instant OpenAI-compatible chat upstream, so a benchmark measures the hub and not an LLM.
///
/// - `POST /v1/chat/completions` answers at once with a fixed `chat.completion` whose content is
///   `pong`, echoing the requested `model`; with `"stream":true` it sends the same answer as
///   server-sent events ending in `data: [DONE]`.
/// - `GET /v1/models` lists one model.
/// - `POST /v1/images/generations` answers at once with one 1×1 PNG as `b64_json`;
///   `POST /delay/{ms}/v1/images/generations` does the same after `ms` milliseconds.
///
/// The request body is scanned, not decoded, for `model`, `stream` and
/// `stream_options.include_usage`.
enum Upstream {
    /// Builds the router serving the fake API.
    static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let fields = body.withUnsafeReadableBytes { raw in
                raw.withMemoryRebound(to: UInt8.self) { RequestFields($0) }
            }
            let created = Int(time(nil))
            if fields.stream {
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                    body: .init(byteBuffer: ByteBuffer(string: streamBody(model: fields.model, created: created, usage: fields.includeUsage)))
                )
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: completionBody(model: fields.model, created: created)))
            )
        }
        router.post("/v1/images/generations") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return imageResponse()
        }
        router.post("/delay/:ms/v1/images/generations") { request, context -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            let milliseconds = context.parameters.get("ms").flatMap(Int.init) ?? 0
            try await Task.sleep(for: .milliseconds(min(max(milliseconds, 0), 600_000)))
            return imageResponse()
        }
        router.get("/v1/models") { _, _ -> Response in
            let created = Int(time(nil))
            let json = #"{"object":"list","data":[{"id":"bench-model","object":"model","created":\#(created),"owned_by":"onebotload"}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        return router
    }

    /// A 1×1 PNG, base64.
    static let pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

    static func imageResponse() -> Response {
        let json = #"{"created":\#(Int(time(nil))),"data":[{"b64_json":"\#(pixel)"}]}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// What the fake needs from a chat request.
    private struct RequestFields {
        /// The requested model as a raw JSON string literal (quotes included), echoed verbatim.
        var model = "\"bench-model\""
        var stream = false
        var includeUsage = false

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            if let range = JSONScan.rawValue(forKey: "model", in: bytes), JSONScan.stringContents(range, in: bytes) != nil {
                model = JSONScan.string(range, in: bytes)
            }
            if let range = JSONScan.rawValue(forKey: "stream", in: bytes) {
                stream = JSONScan.isTrue(range, in: bytes)
            }
            if let range = JSONScan.rawValue(forKey: "include_usage", in: bytes) {
                includeUsage = JSONScan.isTrue(range, in: bytes)
            }
        }
    }

    /// The usage object every answer reports.
    private static let usage = #"{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}"#

    /// A complete `chat.completion`; `model` is a JSON string literal.
    static func completionBody(model: String, created: Int) -> String {
        #"""
        {"id":"chatcmpl-bench","object":"chat.completion","created":\#(created),"model":\#(model),\#
        "choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":\#(usage)}
        """#
    }

    /// The same answer as `chat.completion.chunk` events: role, content, finish, an optional
    /// usage chunk (only when the request asked for it), then `[DONE]`.
    static func streamBody(model: String, created: Int, usage includeUsage: Bool) -> String {
        let head = #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":\#(created),"model":\#(model),"choices":"#
        var body = ""
        body += "data: " + head + #"[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"# + "\n\n"
        body += "data: " + head + #"[{"index":0,"delta":{"content":"pong"},"finish_reason":null}]}"# + "\n\n"
        body += "data: " + head + #"[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
        if includeUsage {
            body += "data: " + head + #"[],"usage":\#(usage)}"# + "\n\n"
        }
        body += "data: [DONE]\n\n"
        return body
    }
}
