// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

@testable import Adapters

// MARK: Helpers

/// An action frame the connection queued for the socket.
private struct Frame {
    let action: String?
    let params: JSONValue?
    let echo: String
    let json: JSONValue
}

private struct NoFrame: Error {}

/// The next frame the writer loop would send; fails when it is not a text frame with a string echo.
private func nextFrame(_ connection: OneBotConnection) async throws -> Frame {
    guard let text = await connection.outbound.next() else { throw NoFrame() }
    let json = try JSONValue(parsing: text)
    let echo = try #require(json["echo"]?.stringValue, "echo must be a JSON string: \(text)")
    return Frame(action: json["action"]?.stringValue, params: json["params"], echo: echo, json: json)
}

/// The `OneBotActionError` a finished call ended with, nil when it succeeded or failed otherwise.
private func actionError(_ result: Result<OneBotActionResponse, any Error>) -> OneBotActionError? {
    guard case .failure(let error) = result else { return nil }
    return error as? OneBotActionError
}

/// Waits (briefly) until `condition` holds.
private func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
}

private func ok(_ data: JSONValue, echo: String) -> OneBotActionResponse {
    OneBotActionResponse(status: "ok", retcode: 0, data: data, echo: echo)
}

@Suite(.timeLimit(.minutes(1))) struct OneBotConnectionTests {
    // MARK: Calls and responses

    @Test func callQueuesAFrameAndResolveCompletesIt() async throws {
        let connection = OneBotConnection(selfID: 3_847_291_056, role: .universal, generation: 5, outboundCapacity: 16)
        let params: JSONValue = ["group_id": 736_251_904, "message": [["type": "text", "data": ["text": "hi"]]]]
        async let answer = connection.call("send_group_msg", params: params, timeout: .seconds(30))
        let frame = try await nextFrame(connection)
        #expect(frame.action == "send_group_msg")
        #expect(frame.params == params)
        #expect(!frame.echo.isEmpty)
        #expect(frame.json.objectValue?.keys.sorted() == ["action", "echo", "params"])
        #expect(connection.pendingCount == 1)
        #expect(connection.resolve(ok(["message_id": -1_834_013_271], echo: frame.echo)))
        let response = try await answer
        #expect(response.messageID == "-1834013271")
        #expect(response.echo == frame.echo)
        #expect(connection.pendingCount == 0)
    }

    @Test func responseDecodedFromTheWireResolvesTheCall() async throws {
        let connection = OneBotConnection(selfID: 1, role: .api, generation: 9)
        async let answer = connection.call("get_login_info", params: [:], timeout: .seconds(30))
        let frame = try await nextFrame(connection)
        let wire = #"{"status":"ok","retcode":0,"data":{"user_id":3847291056,"nickname":"hub"},"message":"","wording":"","echo":"\#(frame.echo)"}"#
        let response = try #require(OneBotActionResponse(json: try JSONValue(parsing: wire)))
        #expect(connection.resolve(response))
        #expect(try await answer.data["user_id"]?.int64Value == 3_847_291_056)
    }

    @Test func echoesAreUniqueStrings() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 2)
        let calls = (0..<5).map { index in
            Task { try await connection.call("get_status", params: ["n": .int(Int64(index))], timeout: .seconds(30)) }
        }
        var echoes = Set<String>()
        for _ in calls { echoes.insert(try await nextFrame(connection).echo) }
        #expect(echoes.count == 5)
        for echo in echoes { #expect(connection.resolve(ok(.null, echo: echo))) }
        for call in calls { _ = try await call.value }
    }

    @Test func responsesOutOfOrderReachTheirCallers() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 3)
        let names = ["get_status", "get_login_info", "get_version_info", "send_msg"]
        var calls = [String: Task<OneBotActionResponse, any Error>]()
        for name in names {
            calls[name] = Task { try await connection.call(name, params: ["which": .string(name)], timeout: .seconds(30)) }
        }
        var echoByAction = [String: String]()
        for _ in names {
            let frame = try await nextFrame(connection)
            echoByAction[try #require(frame.action)] = frame.echo
            #expect(frame.params?["which"]?.stringValue == frame.action)
        }
        // Answer in reverse order of the requests, and then some other order.
        for name in [names[3], names[1], names[0], names[2]] {
            #expect(connection.resolve(ok(["answer_to": .string(name)], echo: try #require(echoByAction[name]))))
        }
        for name in names {
            let response = try await #require(calls[name]).value
            #expect(response.data["answer_to"]?.stringValue == name)
        }
        #expect(connection.pendingCount == 0)
    }

    @Test func failedResponsesAreReturnedNotThrown() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 3)
        async let answer = connection.call("get_record", params: ["file": "a.amr", "out_format": "mp3"], timeout: .seconds(30))
        let frame = try await nextFrame(connection)
        connection.resolve(OneBotActionResponse(status: "failed", retcode: 404, message: "API_NOT_FOUND", echo: frame.echo))
        let response = try await answer
        #expect(response.family == .unsupported)
    }

    // MARK: Unknown and late responses

    @Test func unknownEchoIsNotResolved() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 4)
        #expect(!connection.resolve(ok(.null, echo: "hub-4-999")))
        #expect(!connection.resolve(OneBotActionResponse(status: "failed", retcode: 1400, echo: nil)))
        #expect(!connection.resolve(OneBotActionResponse(status: "failed", retcode: 1400, echo: "")))

        async let answer = connection.call("get_status", params: [:], timeout: .seconds(30))
        let frame = try await nextFrame(connection)
        #expect(!connection.resolve(ok(.null, echo: frame.echo + "0")))
        #expect(!connection.resolve(ok(.null, echo: " " + frame.echo)))
        #expect(connection.pendingCount == 1)
        #expect(connection.resolve(ok(.null, echo: frame.echo)))
        #expect(!connection.resolve(ok(.null, echo: frame.echo)))  // a duplicate answer
        _ = try await answer
    }

    // MARK: Timeouts, closing, cancellation

    @Test func callTimesOut() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 6)
        // The door runs the expiry loop beside the connection's reader and writer.
        let expiry = Task { await connection.expireActions() }
        defer { expiry.cancel() }
        let start = ContinuousClock.now
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("send_msg", params: [:], timeout: .milliseconds(100))
        }
        #expect(error?.kind == .timeout)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(connection.pendingCount == 0)
        // The answer that comes after the timeout finds nobody waiting.
        let frame = try await nextFrame(connection)
        #expect(!connection.resolve(ok(.null, echo: frame.echo)))
    }

    @Test func actionsOfDifferentTimeoutsEachExpireInTime() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 16)
        let expiry = Task { await connection.expireActions() }
        defer { expiry.cancel() }
        // A long wait first, then a short one: the short one still expires near its own deadline.
        let long = Task { try await connection.call("send_msg", params: [:], timeout: .seconds(30)) }
        _ = try await nextFrame(connection)
        let start = ContinuousClock.now
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("get_status", params: [:], timeout: .milliseconds(50))
        }
        #expect(error?.kind == .timeout)
        // Not at the long one's 30 s (the bound leaves room for a loaded machine).
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(connection.pendingCount == 1)
        long.cancel()
    }

    @Test func markClosedFailsEveryPendingCallAtOnce() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 7)
        let calls = (0..<3).map { _ in Task { try await connection.call("send_msg", params: [:], timeout: .seconds(30)) } }
        for _ in calls { _ = try await nextFrame(connection) }
        #expect(connection.pendingCount == 3)
        #expect(!connection.isClosed)
        let start = ContinuousClock.now
        connection.markClosed()
        for call in calls {
            #expect(actionError(await call.result)?.kind == .connectionLost)
        }
        // Immediately: far below the 30 s timeout.
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(connection.isClosed)
        #expect(connection.pendingCount == 0)
        #expect(await connection.outbound.next() == nil)
    }

    @Test func callOnAClosedConnectionFailsAtOnce() async {
        let connection = OneBotConnection(selfID: 1, role: .api, generation: 8)
        connection.markClosed()
        let start = ContinuousClock.now
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("send_msg", params: [:], timeout: .seconds(30))
        }
        #expect(error?.kind == .connectionLost)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(connection.pendingCount == 0)
    }

    @Test func cancelledCallerStopsWaiting() async throws {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 10)
        let call = Task { try await connection.call("send_msg", params: [:], timeout: .seconds(30)) }
        let frame = try await nextFrame(connection)
        call.cancel()
        let result = await call.result
        guard case .failure(let error) = result else {
            Issue.record("a cancelled call returned a response")
            return
        }
        #expect(error is CancellationError)
        #expect(connection.pendingCount == 0)
        #expect(!connection.resolve(ok(.null, echo: frame.echo)))
    }

    @Test func requestCloseIsKeptEvenWhenTheQueueIsFull() async {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 11, outboundCapacity: 1)
        #expect(connection.outbound.tryEnqueue("{}"))
        #expect(!connection.outbound.tryEnqueue("{}"))
        connection.requestClose(code: 1001, reason: "heartbeat timeout")
        connection.requestClose(code: 1000, reason: "replaced by a new connection")  // the first wins
        #expect(connection.closeRequest == .init(code: 1001, reason: "heartbeat timeout"))
        #expect(await connection.closeRequested() == .init(code: 1001, reason: "heartbeat timeout"))
        // The queue takes nothing more; the writer sends the close ahead of what is still in it.
        #expect(!connection.outbound.tryEnqueue("{}"))
    }

    @Test func waitingForACloseEndsWhenCancelled() async {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 15)
        let waiting = Task { await connection.closeRequested() }
        waiting.cancel()
        #expect(await waiting.value == nil)
    }

    // MARK: Refusals

    @Test func eventConnectionRefusesToCall() async {
        let connection = OneBotConnection(selfID: 1, role: .event, generation: 12)
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("send_msg", params: [:], timeout: .seconds(30))
        }
        #expect(error?.kind == .noRoute)
        #expect(connection.outbound.count == 0)
        #expect(connection.pendingCount == 0)
    }

    @Test func fullOutboundQueueIsOverloaded() async {
        let connection = OneBotConnection(selfID: 1, role: .universal, generation: 13, outboundCapacity: 1)
        #expect(connection.outbound.tryEnqueue("{}"))
        let start = ContinuousClock.now
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("send_msg", params: [:], timeout: .seconds(30))
        }
        #expect(error?.kind == .overloaded)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(connection.pendingCount == 0)
        #expect(connection.outbound.count == 1)
    }

    @Test func callsBeyondTheQueueCapacityAreOverloaded() async throws {
        let connection = OneBotConnection(selfID: 1, role: .api, generation: 14, outboundCapacity: 2)
        let calls = (0..<2).map { _ in Task { try await connection.call("send_msg", params: [:], timeout: .seconds(30)) } }
        try await eventually { connection.outbound.count == 2 }
        #expect(connection.outbound.count == 2)
        let error = await #expect(throws: OneBotActionError.self) {
            try await connection.call("send_msg", params: [:], timeout: .seconds(30))
        }
        #expect(error?.kind == .overloaded)
        #expect(connection.pendingCount == 2)
        connection.markClosed()
        for call in calls {
            #expect(actionError(await call.result)?.kind == .connectionLost)
        }
    }
}
