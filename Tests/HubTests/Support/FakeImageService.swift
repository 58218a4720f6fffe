// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// An OpenAI-compatible image service on loopback that the tests control:
/// `POST /<behaviour>/v1/images/generations` answers `b64_json` of a small real PNG made from the
/// prompt (``png(for:)``), so each prompt's picture is told from every other's.
///
/// Behaviours (the first path component): `ok` answers at once; `slow` waits ``delay`` first
/// (settable; `slow<ms>`, e.g. `slow2000`, names its own); `fail` answers 500; `garbage` answers
/// 200 with base64 that is not a picture; `scripted` lets the prompt decide (`fail:…` answers 500
/// every time, `flaky:…` answers 500 the first time that prompt arrives, anything else is `ok`).
///
/// `url-ok`, `url-big`, `url-big-chunked` and `url-stall` answer a `url` result pointing back at
/// the service, `GET /files/<kind>?prompt=…`, which serves the prompt's picture (`ok`), a body of
/// ``bigBytes`` with its `Content-Length` (`big`) or streamed without one (`big-chunked`), or the
/// picture's first bytes and then nothing until the test ends (`stall`); ``fileFetches`` lists the
/// kinds fetched.
///
/// `POST /<behaviour>/sdapi/v1/txt2img` is the Stable Diffusion WebUI's door: `ok` answers
/// `{"images": [base64 PNG]}` (one per `batch_size`), `fail` answers 500 and `garbage` an image
/// that is not a picture.
///
/// While ``hold()`` is in force every request waits (at most 30 s) until ``release()``. Requests
/// are counted per prompt when they arrive.
final class FakeImageService: Sendable {
    /// One request as it arrived.
    struct Received: Sendable {
        let behaviour: String
        let prompt: String
        let authorization: String?
        /// `openai` (`/v1/images/generations`) or `sdwebui` (`/sdapi/v1/txt2img`).
        var api = "openai"
        /// The request's JSON body.
        var body: JSONValue? = nil
    }

    /// Bytes `GET /files/big` and `/files/big-chunked` serve: more than any cap a test sets.
    static let bigBytes = 256 << 10

    private let recorded = Mutex([Received]())
    private let fetchedFiles = Mutex([String]())
    private let address = Mutex("")
    private let holding = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let slowDelay: Mutex<Duration>

    init(delay: Duration = .milliseconds(1500)) {
        slowDelay = Mutex(delay)
    }

    /// How long `slow` waits.
    var delay: Duration {
        get { slowDelay.withLock { $0 } }
        set { slowDelay.withLock { $0 = newValue } }
    }

    /// Makes every request wait until ``release()``.
    func hold() { holding.store(true, ordering: .releasing) }

    /// Lets the held requests (and those still to come) go on.
    func release() { holding.store(false, ordering: .releasing) }

    var requests: [Received] { recorded.withLock { $0 } }

    /// Requests seen for `prompt`.
    func count(_ prompt: String) -> Int {
        recorded.withLock { $0.count { $0.prompt == prompt } }
    }

    /// Requests seen with `behaviour`.
    func count(behaviour: String) -> Int {
        recorded.withLock { $0.count { $0.behaviour == behaviour } }
    }

    /// The kinds of `GET /files/<kind>` requests so far, in order.
    var fileFetches: [String] { fetchedFiles.withLock { $0 } }

    /// Requests being answered now.
    var inProgress: Int { inFlight.load(ordering: .acquiring) }

    /// Requests answered with a picture so far (the answer written, whether the caller still listened or not).
    var answered: Int { finished.load(ordering: .acquiring) }

    /// Waits until a request for `prompt` has arrived.
    func waitForRequest(_ prompt: String, timeout: Duration = .seconds(10)) async throws {
        try await eventually("an image request for \(prompt)", timeout: timeout) { count(prompt) > 0 }
    }

    // MARK: Pictures

    /// A 4×4 RGB PNG (stored deflate, real CRCs and Adler-32) whose colour comes from `prompt`.
    static func png(for prompt: String) -> [UInt8] {
        var hash: UInt32 = 2_166_136_261
        for byte in prompt.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let rgb = [UInt8(truncatingIfNeeded: hash), UInt8(truncatingIfNeeded: hash >> 8), UInt8(truncatingIfNeeded: hash >> 16)]
        let side = 4
        var raw = [UInt8]()
        for _ in 0..<side {
            raw.append(0)  // filter: none
            for _ in 0..<side { raw += rgb }
        }
        let length = UInt16(raw.count)
        // zlib: header, one stored (uncompressed) deflate block, Adler-32.
        let stored: [UInt8] = [0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        let zlib = [0x78, 0x01] + stored + raw + bigEndian(adler32(raw))
        let header = bigEndian(UInt32(side)) + bigEndian(UInt32(side)) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    // MARK: Serving

    /// Reads a generation request and records it: its behaviour (the path's first component), its
    /// JSON body and prompt, and how many requests for that prompt came before it (`flaky:` fails
    /// the first).
    private func receive(
        _ request: Request, _ context: BasicRequestContext, api: String
    ) async throws -> (behaviour: String, json: JSONValue?, prompt: String, earlier: Int) {
        let behaviour = try context.parameters.require("behaviour")
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let json = try? JSONValue(parsing: bytes.readableBytesView)
        let prompt = json?["prompt"]?.stringValue ?? ""
        let earlier = recorded.withLock { recorded in
            let earlier = recorded.count { $0.prompt == prompt }
            recorded.append(Received(behaviour: behaviour, prompt: prompt, authorization: request.headers[.authorization], api: api, body: json))
            return earlier
        }
        return (behaviour, json, prompt, earlier)
    }

    /// Runs the service for the duration of `body`, passing its address (`http://127.0.0.1:<port>`);
    /// a provider's `base_url` is that plus `/<behaviour>/v1`.
    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/:behaviour/v1/images/generations") { request, context -> Response in
            let (behaviour, json, prompt, earlier) = try await self.receive(request, context, api: "openai")
            self.inFlight.add(1, ordering: .acquiringAndReleasing)
            defer { self.inFlight.subtract(1, ordering: .acquiringAndReleasing) }
            try await self.wait(while: { self.holding.load(ordering: .acquiring) }, atMost: .seconds(30))
            switch behaviour {
            case "ok":
                break
            case "scripted" where prompt.hasPrefix("fail:") || (prompt.hasPrefix("flaky:") && earlier == 0):
                return Response.json(.internalServerError, ["error": ["message": "GPU on fire", "type": "server_error"]])
            case "scripted":
                break
            case let name where name.hasPrefix("url-"):
                let query = prompt.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let url = "\(self.address.withLock { $0 })/files/\(name.dropFirst(4))?prompt=\(query)"
                return Response.json(.ok, ["created": 1_717_000_000, "data": [["url": .string(url)]]])
            case "slow":
                try await self.pause(self.delay)
            case let name where name.hasPrefix("slow"):
                try await self.pause(.milliseconds(Int64(name.dropFirst(4)) ?? 1500))
            case "fail":
                return Response.json(.internalServerError, ["error": ["message": "GPU on fire", "type": "server_error"]])
            case "garbage":
                let text = Data("this is not a picture at all".utf8).base64EncodedString()
                return Response.json(.ok, ["created": 1_717_000_000, "data": [["b64_json": .string(text)]]])
            default:
                return Response.json(.notFound, ["error": ["message": .string("no behaviour \(behaviour)")]])
            }
            let count = max(1, min(8, Int(json?["n"]?.int64Value ?? 1)))
            let picture = JSONValue.string(Data(Self.png(for: prompt)).base64EncodedString())
            self.finished.add(1, ordering: .acquiringAndReleasing)
            return Response.json(.ok, ["created": 1_717_000_000, "data": .array(Array(repeating: ["b64_json": picture], count: count))])
        }
        router.post("/:behaviour/sdapi/v1/txt2img") { request, context -> Response in
            let (behaviour, json, prompt, _) = try await self.receive(request, context, api: "sdwebui")
            try await self.wait(while: { self.holding.load(ordering: .acquiring) }, atMost: .seconds(30))
            switch behaviour {
            case "ok":
                let count = max(1, min(8, Int(json?["batch_size"]?.int64Value ?? 1)))
                let picture = JSONValue.string(Data(Self.png(for: prompt)).base64EncodedString())
                self.finished.add(1, ordering: .acquiringAndReleasing)
                return Response.json(.ok, ["images": .array(Array(repeating: picture, count: count)), "parameters": [:], "info": "{}"])
            case "fail":
                return Response.json(.internalServerError, ["error": "OutOfMemoryError", "detail": "CUDA out of memory"])
            case "garbage":
                return Response.json(.ok, ["images": [.string(Data("not a picture".utf8).base64EncodedString())]])
            default:
                return Response.json(.notFound, ["detail": .string("no behaviour \(behaviour)")])
            }
        }
        router.get("/files/:kind") { request, context -> Response in
            let kind = try context.parameters.require("kind")
            self.fetchedFiles.withLock { $0.append(kind) }
            let picture = Self.png(for: request.uri.queryParameters.get("prompt") ?? "")
            let padded = picture + [UInt8](repeating: 0, count: Self.bigBytes - picture.count)
            let headers: HTTPFields = [.contentType: "image/png"]
            switch kind {
            case "ok":
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: picture)))
            case "big":
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: padded)))
            case "big-chunked":
                return Response(
                    status: .ok, headers: headers,
                    body: ResponseBody { writer in
                        for start in stride(from: 0, to: padded.count, by: 8192) {
                            try await writer.write(ByteBuffer(bytes: padded[start..<min(start + 8192, padded.count)]))
                        }
                        try await writer.finish(nil)
                    })
            case "stall":
                return Response(
                    status: .ok, headers: headers,
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(bytes: picture.prefix(16)))
                        try await self.pause(.seconds(60))
                        try await writer.write(ByteBuffer(bytes: picture.dropFirst(16)))
                        try await writer.finish(nil)
                    })
            default:
                return Response(status: .notFound)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            // Held or slow handlers end when the test is over, so the server can stop.
            defer {
                stopping.store(true, ordering: .releasing)
                release()
            }
            let base = "http://127.0.0.1:\(client.port!)"
            address.withLock { $0 = base }
            return try await body(base)
        }
    }

    /// Sleeps `duration` in short steps, ending early when the service stops.
    private func pause(_ duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        try await wait(while: { ContinuousClock.now < deadline }, atMost: duration)
    }

    private func wait(while condition: () -> Bool, atMost limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while condition(), ContinuousClock.now < deadline, !stopping.load(ordering: .acquiring) {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
