// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// A web chat client over a real WebSocket, as the page speaks to the hub: it sends frames and
/// records every frame the hub sends.
final class WebChatClient: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let waitingFor: String
        let received: [JSONValue]
        var description: String { "timed out waiting for \(waitingFor); received \(received.map(\.compactJSON))" }
    }

    private let received = Mutex([JSONValue]())
    private let outgoing = BoundedQueue<WebSocketMessage>(capacity: 1024)
    private let connected = Atomic<Bool>(false)
    private let closeFrame = Mutex<WebSocketCloseFrame?>(nil)
    private let ended = Atomic<Bool>(false)

    /// Connects to `path` and runs in the background of `body`'s task group until ``close()``.
    static func connect(port: Int, path: String, headers: HTTPFields = [:]) -> (WebChatClient, Task<Void, any Error>) {
        let client = WebChatClient()
        let task = Task {
            defer { client.ended.store(true, ordering: .releasing) }
            var logger = Logger(label: "web-chat-client")
            logger.logLevel = .critical
            let close = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxFrameSize: 1 << 24, additionalHeaders: headers), logger: logger
            ) { inbound, outbound, _ in
                client.connected.store(true, ordering: .releasing)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            guard case .text(let text) = message, let value = try? JSONValue(parsing: text) else { continue }
                            client.received.withLock { $0.append(value) }
                        }
                    }
                    group.addTask {
                        while let message = await client.outgoing.next() {
                            switch message {
                            case .text(let text): try await outbound.write(.text(text))
                            case .binary(let bytes): try await outbound.write(.binary(bytes))
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
            client.closeFrame.withLock { $0 = close }
        }
        return (client, task)
    }

    func send(_ text: String) { outgoing.tryEnqueue(.text(text)) }
    func send(_ value: JSONValue) { send(value.compactJSON) }
    func sendBinary(_ bytes: [UInt8]) { outgoing.tryEnqueue(.binary(ByteBuffer(bytes: bytes))) }

    /// Sends `{"type":"message","id":id,"text":text}`.
    func message(_ id: String, _ text: String) {
        send(.object(["type": "message", "id": .string(id), "text": .string(text)]))
    }

    /// Ends the connection (normal closure).
    func close() { outgoing.close() }

    var frames: [JSONValue] { received.withLock { $0 } }
    var hasEnded: Bool { ended.load(ordering: .acquiring) }
    /// The close frame the hub sent, once the connection has ended.
    var closeCode: WebSocketErrorCode? { closeFrame.withLock { $0?.closeCode } }

    /// Waits for the first frame matching `predicate`.
    @discardableResult
    func frame(
        _ what: String, timeout: Duration = .seconds(10), where predicate: @Sendable (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let match = received.withLock({ $0.first(where: predicate) }) { return match }
            guard ContinuousClock.now < deadline else { throw Timeout(waitingFor: what, received: frames) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The frame of `type` for message `id` (`error` frames without an id match `id == nil`).
    @discardableResult
    func frame(_ type: String, id: String?, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await frame("\(type) for \(id ?? "nil")", timeout: timeout) { value in
            value["type"]?.stringValue == type && value["id"]?.stringValue == id
        }
    }

    /// Waits for the first `history` frame.
    func history(timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await frame("history", timeout: timeout) { $0["type"] == "history" }
    }

    /// The text of every `delta` for message `id`, in order.
    func deltas(_ id: String) -> [String] {
        frames.filter { $0["type"] == "delta" && $0["id"]?.stringValue == id }.compactMap { $0["text"]?.stringValue }
    }

    /// Waits until the connection has ended.
    func waitUntilEnded(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !hasEnded {
            guard ContinuousClock.now < deadline else { throw Timeout(waitingFor: "the connection to end", received: frames) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
