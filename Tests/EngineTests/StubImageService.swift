// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore

@testable import Engine

/// A stub image service on loopback that misbehaves on purpose, speaking both OpenAI's
/// `/images/generations` and Stable Diffusion WebUI's `/sdapi/v1/txt2img`. The first path
/// component picks the behaviour: `/<behaviour>/v1/images/generations`, `/<behaviour>/sdapi/v1/txt2img`.
/// `/files/picture.png` serves ``png`` (the target of `url` results).
final class StubImageService: Sendable {
    struct Received: Sendable {
        var path: String
        var authorization: String?
        var body: JSONValue?
    }

    let received = Locked<[Received]>([])
    /// Requests seen per behaviour (for behaviours that fail first, then answer).
    let calls = Locked<[String: Int]>([:])
    /// Where it listens (set by the test once the server runs), for `url` results.
    let port = Locked(0)

    /// A PNG header for a 64×32 picture: enough for the sniffer and the size reader.
    static let png: [UInt8] =
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 64, 0, 0, 0, 32, 8, 6, 0, 0, 0]
        + [0x1F, 0x15, 0xC4, 0x89]
    /// A JPEG start with a baseline frame header for 40×24.
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 24, 0x00, 40, 0x01, 0x01, 0x11, 0x00]
    /// Runs the stub on loopback and `body` with it, its port and a client.
    static func with<T: Sendable>(_ body: @Sendable (StubImageService, _ port: Int, HTTPClient) async throws -> T) async throws -> T {
        let service = StubImageService()
        return try await withLoopbackServer(service.router()) { port, client in
            service.port.withLock { $0 = port }
            return try await body(service, port, client)
        }
    }

    static var pngBase64: String { Data(png).base64EncodedString() }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/:behaviour/v1/images/generations") { request, context in
            try await self.handle(request, context, sd: false)
        }
        router.post("/:behaviour/sdapi/v1/txt2img") { request, context in
            try await self.handle(request, context, sd: true)
        }
        router.get("/files/picture.png") { _, _ in Self.answer(Self.png, "image/png") }
        router.get("/files/page.html") { _, _ in Self.answer(Array("<html>not a picture</html>".utf8), "text/html") }
        return router
    }

    private func handle(_ request: Request, _ context: BasicRequestContext, sd: Bool) async throws -> Response {
        let behaviour = try context.parameters.require("behaviour")
        let body = try await request.body.collect(upTo: 1 << 20)
        let call = calls.withLock { calls in
            calls[behaviour, default: 0] += 1
            return calls[behaviour]!
        }
        received.withLock {
            $0.append(
                Received(path: request.uri.path, authorization: request.headers[.authorization], body: try? JSONValue(parsing: body.readableBytesView)))
        }
        return try await respond(behaviour, call: call, sd: sd, port: port.value)
    }

    static func answer(_ bytes: [UInt8], _ contentType: String?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if let contentType { headers[.contentType] = contentType }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        answer(Array(text.utf8), "application/json", status: status, headers: headers)
    }

    private func respond(_ behaviour: String, call: Int, sd: Bool, port: Int) async throws -> Response {
        let good = sd ? #"{"images":["\#(Self.pngBase64)","\#(Self.pngBase64)"],"info":"{}"}"# : #"{"created":1,"data":[{"b64_json":"\#(Self.pngBase64)"}]}"#
        switch behaviour {
        case "ok": return Self.json(good)
        case "jpeg": return Self.json(#"{"data":[{"b64_json":"\#(Data(Self.jpeg).base64EncodedString())"}]}"#)
        case "url": return Self.json(#"{"data":[{"url":"http://127.0.0.1:\#(port)/files/picture.png"}]}"#)
        case "urlhtml": return Self.json(#"{"data":[{"url":"http://127.0.0.1:\#(port)/files/page.html"}]}"#)
        case "urlprivate": return Self.json(#"{"data":[{"url":"http://10.0.0.1/picture.png"}]}"#)
        case "urlfile": return Self.json(#"{"data":[{"url":"file:///etc/passwd"}]}"#)
        case "notjson": return Self.answer(Array("<html>gateway</html>".utf8), "text/html")
        case "nodata": return Self.json(sd ? #"{"images":[]}"# : #"{"data":[]}"#)
        case "badbase64": return Self.json(sd ? #"{"images":["%%%not base64%%%"]}"# : #"{"data":[{"b64_json":"%%%not base64%%%"}]}"#)
        case "notimage":
            let text = Data("just some text".utf8).base64EncodedString()
            return Self.json(sd ? #"{"images":["\#(text)"]}"# : #"{"data":[{"b64_json":"\#(text)"}]}"#)
        case "error500":
            return Self.json(#"{"error":{"message":"GPU on fire"}}"#, status: .internalServerError)
        case "flaky":
            return call == 1 ? Self.json(#"{"error":{"message":"warming up"}}"#, status: .internalServerError) : Self.json(good)
        case "limited":
            return call == 1
                ? Self.json(#"{"error":{"message":"rate limited"}}"#, status: .tooManyRequests, headers: [.retryAfter: "0.4"]) : Self.json(good)
        case "unauthorized": return Self.json(#"{"error":{"message":"bad key"}}"#, status: .unauthorized)
        case "stall":
            try await Task.sleep(for: .seconds(30))
            return Self.json(good)
        default: return Response(status: .notFound)
        }
    }
}
