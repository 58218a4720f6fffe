// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// A request the hub cannot parse is answered with the hub's JSON error (`{"error":{"message":…}}`,
/// `Connection: close`) and its connection closed at once, instead of being left open with no
/// answer until the client gives up; the status is the one the parser's complaint names, and the
/// hub goes on serving.
@Suite(.timeLimit(.minutes(1)))
struct MalformedHTTPTests {
    static let requests: [(name: String, bytes: String, status: Int)] = [
        // The parser reads an unknown method there, as it does for BREW.
        ("garbage request line", "GARBAGE\r\n\r\n", 501),
        ("conflicting Content-Length", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", 400),
        ("Content-Length that is no number", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello", 400),
        ("NUL in a header", "GET /health HTTP/1.1\r\nHo\u{0}st: x\r\n\r\n", 400),
        ("bare CR in a header", "GET /health HTTP/1.1\r\nHost: x\rInjected: y\r\n\r\n", 400),
        ("unknown method", "BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        ("bad chunked framing", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n", 400),
        ("HTTP version 2.0", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 400),
        ("lines ended by LF alone", "GET /health HTTP/1.1\nHost: x\n\n", 400),
    ]

    @Test(arguments: 0..<requests.count)
    func aRequestThatCannotBeParsedIsAnsweredWithAJSONErrorAndClosed(index: Int) async throws {
        let (name, bytes, status) = Self.requests[index]
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            let answer = try await RawConnection.exchange(port: port, bytes)
            #expect(answer.status == status, "\(name): \(answer)")
            #expect(answer.isClosingJSONError, "\(name): \(answer)")
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A request that cannot be parsed, pipelined behind one still being answered, closes the
    /// connection without an answer of its own: the client would take it for the first one's.
    @Test func aGarbledRequestBehindAnUnansweredOneGetsNoAnswerThatCouldBeMistakenForIts() async throws {
        let upstream = FakeUpstream()
        try await upstream.run { base in
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath())
            try await TestHub.run(configuration) { port, client in
                let body = #"{"model":"model-a","messages":[{"role":"user","content":"held please"}]}"#
                let connection = try await RawConnection.open(port: port)
                await connection.send(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                try await eventually("the upstream holds the request") { !upstream.requests.isEmpty }
                await connection.send("GARBAGE\r\n\r\n")
                let received = try await connection.waitUntilClosed(timeout: .seconds(5))
                #expect(received.isEmpty, "\(received.prefix(120))")
                upstream.release()
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    /// A 1 MiB request target overflows the decoder's 80 KiB limit on the request line and headers:
    /// 431 while the client is still sending, and closed.
    @Test func aOneMebibyteURLIsRefusedAndClosed() async throws {
        let path = "/health?q=" + String(repeating: "a", count: 1 << 20)
        try await expectRefusedAsTooLarge("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
    }

    /// A header block past the limit, as many ordinary fields or as one huge one.
    @Test(arguments: [false, true])
    func aHugeHeaderBlockIsRefusedAndClosed(oneField: Bool) async throws {
        let fields =
            oneField
            ? "X-Big: \(String(repeating: "b", count: 200 * 1024))\r\n"
            : (0..<400).map { "X-Field-\($0): \(String(repeating: "h", count: 500))\r\n" }.joined()
        try await expectRefusedAsTooLarge("GET /health HTTP/1.1\r\nHost: x\r\n\(fields)\r\n")
    }

    private func expectRefusedAsTooLarge(_ request: String) async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            let connection = try await RawConnection.open(port: port)
            // The hub may answer and close before it has taken everything.
            await connection.send(request)
            let answer = try HTTPAnswer(parsing: try await connection.waitUntilClosed(timeout: .seconds(5)))
            #expect(answer.status == 431, "\(answer)")
            #expect(answer.isClosingJSONError, "\(answer)")
            #expect(answer.error?.message.contains("80 KiB") == true)
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }
}
