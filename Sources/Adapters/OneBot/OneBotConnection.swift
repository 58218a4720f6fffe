// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import NIOCore
import Synchronization

/// One live reverse-WebSocket connection from a OneBot implementation, and the action client on it.
///
/// Actions get unique string echoes and are matched to responses in any order. When the connection
/// ends, every pending action fails at once with ``OneBotActionError/Kind/connectionLost``.
public final class OneBotConnection: Sendable {
    /// Why and how the hub closes the connection.
    struct CloseRequest: Sendable, Hashable {
        var code: UInt16
        var reason: String
    }

    private struct Closing {
        var request: CloseRequest?
        var waiters: [CheckedContinuation<CloseRequest?, Never>] = []
    }

    public let selfID: Int64
    public let role: OneBotRole
    /// Increases with every connection the hub accepts; a late close of an old socket never removes
    /// a newer one.
    public let generation: UInt64
    /// When the hub accepted the connection.
    public let connectedAt = Date()
    /// Text frames for the writer loop.
    let outbound: BoundedQueue<String>
    private let closing = Mutex(Closing())
    private let pending = Mutex([String: CheckedContinuation<OneBotActionResponse, any Error>]())
    private let echoCounter = Atomic<UInt64>(0)
    private let closed = Atomic<Bool>(false)
    private let deadlines = ActionDeadlines()
    /// Nanoseconds (ContinuousClock-based uptime) of the last frame received.
    let lastFrameAt = Atomic<Int64>(0)
    /// Heartbeat interval in milliseconds (within ``OneBotHeartbeatInterval/range``), 0 until a heartbeat arrives.
    let heartbeatInterval = Atomic<Int64>(0)

    init(selfID: Int64, role: OneBotRole, generation: UInt64, outboundCapacity: Int = 4096) {
        self.selfID = selfID
        self.role = role
        self.generation = generation
        self.outbound = BoundedQueue(capacity: outboundCapacity)
    }

    /// Sends `action` and waits for its response, up to `timeout`.
    public func call(_ action: String, params: JSONValue, timeout: Duration) async throws -> OneBotActionResponse {
        guard role.carriesActions else { throw OneBotActionError(.noRoute, detail: "connection is Event-only") }
        let echo = "hub-\(generation)-\(echoCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
        var frame = [UInt8]()
        JSONValue.object(["action": .string(action), "params": params, "echo": .string(echo)]).write(into: &frame)
        let text = String(decoding: frame, as: UTF8.self)
        // The connection's expiry loop fails the action if no answer came in time (no timer per
        // call). Registration checks the same deadline, so an expiry that comes first is never missed.
        let detail = "\(action) got no answer within \(timeout)"
        let deadline = deadlines.add(echo: echo, timeout: timeout, detail: detail)
        let expired = OneBotActionError(.timeout, detail: detail)
        return try await awaitResponse(echo: echo, frame: text, deadline: deadline, expired: expired)
    }

    /// Fails every action whose time is up, until cancelled: the door runs it beside the
    /// connection's reader and writer.
    func expireActions() async {
        await deadlines.run { [self] echo, detail in
            if let waiting = pending.withLock({ $0.removeValue(forKey: echo) }) {
                waiting.resume(throwing: OneBotActionError(.timeout, detail: detail))
            }
        }
    }

    private func awaitResponse(
        echo: String, frame: String, deadline: ContinuousClock.Instant, expired: OneBotActionError
    ) async throws -> OneBotActionResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let refusal = pending.withLock { pending -> (any Error)? in
                    if closed.load(ordering: .acquiring) { return OneBotActionError(.connectionLost) }
                    if Task.isCancelled { return CancellationError() }
                    if ContinuousClock.now >= deadline { return expired }
                    pending[echo] = continuation
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                    return
                }
                if !outbound.tryEnqueue(frame) {
                    if let waiting = pending.withLock({ $0.removeValue(forKey: echo) }) {
                        waiting.resume(throwing: OneBotActionError(outbound.isClosed ? .connectionLost : .overloaded))
                    }
                }
            }
        } onCancel: {
            if let waiting = pending.withLock({ $0.removeValue(forKey: echo) }) {
                waiting.resume(throwing: CancellationError())
            }
        }
    }

    /// Hands a response to the action waiting for its echo; false when none waits (late or unknown).
    @discardableResult
    func resolve(_ response: OneBotActionResponse) -> Bool {
        guard let echo = response.echo, !echo.isEmpty,
            let waiting = pending.withLock({ $0.removeValue(forKey: echo) })
        else { return false }
        waiting.resume(returning: response)
        return true
    }

    /// Asks the writer to close the socket with `code`, ahead of any frame still queued. Never
    /// dropped, however full the queue is: the request is kept beside it, not in it, and the door
    /// ends the connection without a close handshake if the writer cannot send it in time (a
    /// stalled peer). The first request wins.
    func requestClose(code: UInt16, reason: String) {
        let (request, waiters) = closing.withLock { closing -> (CloseRequest, [CheckedContinuation<CloseRequest?, Never>]) in
            if closing.request == nil { closing.request = CloseRequest(code: code, reason: reason) }
            defer { closing.waiters.removeAll() }
            return (closing.request!, closing.waiters)
        }
        outbound.close()
        for waiter in waiters { waiter.resume(returning: request) }
    }

    /// The close the hub asked for, if it did.
    var closeRequest: CloseRequest? { closing.withLock { $0.request } }

    /// Waits until the hub asks to close the connection; nil when the waiting task is cancelled.
    func closeRequested() async -> CloseRequest? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<CloseRequest?, Never>) in
                let request = closing.withLock { closing -> CloseRequest?? in
                    if let request = closing.request { return .some(request) }
                    if Task.isCancelled { return .some(nil) }
                    closing.waiters.append(continuation)
                    return .none
                }
                if let request { continuation.resume(returning: request) }
            }
        } onCancel: {
            let waiters = closing.withLock { closing in
                defer { closing.waiters.removeAll() }
                return closing.waiters
            }
            for waiter in waiters { waiter.resume(returning: nil) }
        }
    }

    /// Marks the connection gone and fails every pending action.
    func markClosed() {
        closed.store(true, ordering: .releasing)
        outbound.close()
        let waiting = pending.withLock { pending in
            let all = Array(pending.values)
            pending.removeAll()
            return all
        }
        for continuation in waiting { continuation.resume(throwing: OneBotActionError(.connectionLost)) }
    }

    /// Whether the connection has ended.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Actions waiting for an answer.
    var pendingCount: Int { pending.withLock { $0.count } }
}
