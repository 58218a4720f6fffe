// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
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
/// 200 with base64 that is not a picture. A prompt among `failing` is answered as by `fail` whatever
/// the behaviour, so one provider can draw one prompt and fail another. While ``hold()`` is in force
/// every request waits (at most 30 s) until ``release()``. Requests are counted per prompt when
/// they arrive.
final class FakeImageService: Sendable {
    /// One request as it arrived.
    struct Received: Sendable {
        let behaviour: String
        let prompt: String
        let authorization: String?
    }

    private let recorded = Mutex([Received]())
    private let holding = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let slowDelay: Mutex<Duration>
    private let failing: Set<String>

    init(delay: Duration = .milliseconds(1500), failing: Set<String> = []) {
        slowDelay = Mutex(delay)
        self.failing = failing
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

    /// Runs the service for the duration of `body`, passing its address (`http://127.0.0.1:<port>`);
    /// a provider's `base_url` is that plus `/<behaviour>/v1`.
    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/:behaviour/v1/images/generations") { request, context -> Response in
            let behaviour = try context.parameters.require("behaviour")
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let json = try? JSONValue(parsing: bytes.readableBytesView)
            let prompt = json?["prompt"]?.stringValue ?? ""
            self.recorded.withLock { $0.append(Received(behaviour: behaviour, prompt: prompt, authorization: request.headers[.authorization])) }
            self.inFlight.add(1, ordering: .acquiringAndReleasing)
            defer { self.inFlight.subtract(1, ordering: .acquiringAndReleasing) }
            try await self.wait(while: { self.holding.load(ordering: .acquiring) }, atMost: .seconds(30))
            switch self.failing.contains(prompt) ? "fail" : behaviour {
            case "ok":
                break
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
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            // Held or slow handlers end when the test is over, so the server can stop.
            defer {
                stopping.store(true, ordering: .releasing)
                release()
            }
            return try await body("http://127.0.0.1:\(client.port!)")
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
