// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Hub

/// A request that does not arrive in time (`server.request_timeout`) is answered 408 with the hub's
/// JSON error and its connection closed, so half-sent requests cannot pile up; connections idle
/// between requests, answers that take long, and bodies that keep coming are left alone.
@Suite(.timeLimit(.minutes(1)))
struct RequestTimeoutTests {
    /// The timeout these tests configure, in seconds.
    static let timeout = 1.0

    /// Ways to send part of a request and stop.
    static let halfSent: [(name: String, bytes: String)] = [
        ("one byte", "G"),
        ("part of the request line", "GET /hea"),
        ("headers without their end", "GET /health HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n"),
        ("part of a WebSocket upgrade", "GET /onebot/v11/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"),
        (
            "a body shorter than its Content-Length",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":"
        ),
        (
            "a chunked body without its last chunk",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"mod\r\n"
        ),
    ]

    static func configuration(upstream: String? = nil, timeout: Double = timeout) throws -> HubConfiguration {
        var configuration = try TestHub.configuration(upstream: upstream, databasePath: TestHub.databasePath())
        configuration.server.requestTimeout = timeout
        return configuration
    }

    @Test func twentyHalfSentRequestsAreAnswered408AndClosedAndTheirSocketsReleased() async throws {
        try await TestHub.run(try Self.configuration()) { port, client in
            // The test client's connection is in and idle: the count to return to.
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            let idleSockets = try #require(OpenFileDescriptors.sockets(localPort: port))
            // Twenty connections, held by the hub: a connection that has sent nothing is idle, and
            // the idle timeout (75 s) is far away.
            var connections: [RawConnection] = []
            for _ in 0..<20 { connections.append(try await RawConnection.open(port: port)) }
            try await eventually("the hub holds 20 connections") { OpenFileDescriptors.sockets(localPort: port) == idleSockets + 20 }

            // Each sends part of a request…
            let started = ContinuousClock.now
            for (index, connection) in connections.enumerated() {
                await connection.send(Self.halfSent[index % Self.halfSent.count].bytes)
            }

            // …and the hub answers each 408 and closes it once the timeout has passed, not before
            // (and not much after: the slack is for a loaded machine).
            for (index, connection) in connections.enumerated() {
                let name = Self.halfSent[index % Self.halfSent.count].name
                let received = try await connection.waitUntilClosed(timeout: .seconds(Self.timeout + 4))
                let elapsed = ContinuousClock.now - started
                #expect(elapsed >= .seconds(Self.timeout), "\(name): closed after \(elapsed)")
                let answer = try HTTPAnswer(parsing: received)
                #expect(answer.status == 408, "\(name): \(answer)")
                #expect(answer.isClosingJSONError, "\(name): \(answer)")
            }
            let closedAfter = ContinuousClock.now - started
            #expect(closedAfter < .seconds(Self.timeout + 4))

            // The hub's descriptors for them are gone: back to the listening socket (and whatever
            // was open before).
            try await eventually("the hub's sockets back to \(idleSockets)") { OpenFileDescriptors.sockets(localPort: port) == idleSockets }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A kept-alive connection idle for longer than the request timeout is still served, and so is
    /// a new one that has not sent anything yet: the idle timeout (75 s) governs them, not this
    /// one. The proof needs no fixed sleep: it is checked when a half-sent request opened after
    /// both went quiet has been timed out.
    @Test func idleConnectionsOutliveTheRequestTimeout() async throws {
        try await TestHub.run(try Self.configuration()) { port, _ in
            let idle = try await RawConnection.open(port: port)
            await idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await idle.waitForAnswers(1).first?.status == 200)
            let silent = try await RawConnection.open(port: port)

            let late = try await RawConnection.open(port: port)
            await late.send("GET /health HTTP/1.1\r\nHost: x\r\n")
            #expect(try HTTPAnswer(parsing: await late.waitUntilClosed(timeout: .seconds(Self.timeout + 4))).status == 408)

            #expect(idle.isOpen)
            await idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await idle.waitForAnswers(2).last?.status == 200)
            idle.close()
            #expect(silent.isOpen)
            await silent.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await silent.waitForAnswers(1).first?.status == 200)
            silent.close()
        }
    }

    /// Once a request is in, its answer may take longer than the request timeout.
    @Test func anAnswerSlowerThanTheRequestTimeoutIsNotCut() async throws {
        let upstream = FakeUpstream()
        try await upstream.run { base in
            try await TestHub.run(try Self.configuration(upstream: base)) { port, _ in
                let body = #"{"model":"model-a","messages":[{"role":"user","content":"held please"}]}"#
                let slow = try await RawConnection.open(port: port)
                await slow.send(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                try await eventually("the upstream holds the request") { !upstream.requests.isEmpty }

                let late = try await RawConnection.open(port: port)
                await late.send("GET /health HTTP/1.1\r\n")
                _ = try await late.waitUntilClosed(timeout: .seconds(Self.timeout + 4))

                #expect(slow.isOpen)
                upstream.release()
                let answer = try #require(try await slow.waitForAnswers(1).first)
                #expect(answer.status == 200, "\(answer)")
                #expect(answer.body.contains("echo: held please"))
                slow.close()
            }
        }
    }

    /// A body that keeps coming, each piece well within the timeout, is read in full however long
    /// it takes altogether.
    @Test func aBodyThatKeepsComingIsReadInFull() async throws {
        let timeout = 2.0
        try await TestHub.run(try Self.configuration(timeout: timeout)) { port, _ in
            let body = Array(#"{"model":"model-a","messages":[{"role":"user","content":"hello there, slowly"}]}"#.utf8)
            let connection = try await RawConnection.open(port: port)
            await connection.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
            let started = ContinuousClock.now
            let pieces = 12
            let size = (body.count + pieces - 1) / pieces
            for start in stride(from: 0, to: body.count, by: size) {
                try await Task.sleep(for: .milliseconds(250))
                await connection.send(body[start..<min(start + size, body.count)])
            }
            #expect(ContinuousClock.now - started > .seconds(timeout))
            // No provider is configured: the door's own answer, not the timeout's.
            let answer = try #require(try await connection.waitForAnswers(1).first)
            #expect(answer.status != 408, "\(answer)")
            connection.close()
        }
    }
}
