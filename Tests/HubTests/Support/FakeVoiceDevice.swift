// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// A xiaozhi device (or the chat page's microphone) over a real WebSocket: it sends the handshake
/// headers, JSON messages and binary audio frames, and records everything the hub sends with the
/// time it arrived.
final class FakeVoiceDevice: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let waitingFor: String
        let received: [JSONValue]
        var description: String { "timed out waiting for \(waitingFor); received \(received.map(\.compactJSON))" }
    }

    /// Something the hub sent.
    enum Received: Sendable {
        case message(JSONValue)
        case audio([UInt8])

        var isAudio: Bool {
            switch self {
            case .audio: true
            case .message: false
            }
        }
    }

    private let received = Mutex([(Received, ContinuousClock.Instant)]())
    private let outgoing = BoundedQueue<WebSocketMessage>(capacity: 4096)
    private let closeFrame = Mutex<WebSocketCloseFrame?>(nil)
    private let failure = Mutex<(any Error)?>(nil)
    private let ended = Atomic<Bool>(false)

    /// The headers a stock device sends: `Authorization` (when `token` is given), `Protocol-Version`,
    /// `Device-Id` and `Client-Id`.
    static func headers(token: String?, version: Int = 1, deviceID: String = "aa:bb:cc:dd:ee:01", clientID: String = UUID().uuidString)
        -> HTTPFields
    {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[HTTPField.Name("Protocol-Version")!] = "\(version)"
        headers[HTTPField.Name("Device-Id")!] = deviceID
        headers[HTTPField.Name("Client-Id")!] = clientID
        return headers
    }

    /// Connects to `path` on the hub at `port`; the connection lives in the returned task.
    static func connect(port: Int, path: String = "/xiaozhi/v1/", headers: HTTPFields) -> (FakeVoiceDevice, Task<Void, Never>) {
        let device = FakeVoiceDevice()
        let task = Task {
            defer { device.ended.store(true, ordering: .releasing) }
            var logger = Logger(label: "fake-voice-device")
            logger.logLevel = .critical
            do {
                let close = try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: logger
                ) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                let item: Received
                                switch message {
                                case .text(let text):
                                    guard let value = try? JSONValue(parsing: text) else { continue }
                                    item = .message(value)
                                case .binary(let bytes):
                                    item = .audio(Array(buffer: bytes))
                                }
                                device.received.withLock { $0.append((item, .now)) }
                            }
                        }
                        group.addTask {
                            while let message = await device.outgoing.next() {
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
                device.closeFrame.withLock { $0 = close }
            } catch {
                device.failure.withLock { $0 = error }
            }
        }
        return (device, task)
    }

    func send(_ value: JSONValue) { outgoing.tryEnqueue(.text(value.compactJSON)) }
    func sendText(_ text: String) { outgoing.tryEnqueue(.text(text)) }
    func sendBinary(_ bytes: [UInt8]) { outgoing.tryEnqueue(.binary(ByteBuffer(bytes: bytes))) }

    /// The client hello: protocol `version`, audio `format` (opus or pcm16), 16 kHz mono 60 ms.
    func hello(version: Int = 1, format: String = "opus", frameDuration: Int = 60) {
        send(
            .object([
                "type": "hello", "version": .int(Int64(version)), "transport": "websocket",
                "features": .object(["mcp": true]),
                "audio_params": .object([
                    "format": .string(format), "sample_rate": 16000, "channels": 1, "frame_duration": .int(Int64(frameDuration)),
                ]),
            ]))
    }

    func listen(_ state: String, mode: String? = nil, text: String? = nil, sessionID: String = "") {
        var message: [String: JSONValue] = ["session_id": .string(sessionID), "type": "listen", "state": .string(state)]
        if let mode { message["mode"] = .string(mode) }
        if let text { message["text"] = .string(text) }
        send(.object(message))
    }

    func abort(sessionID: String = "") {
        send(.object(["session_id": .string(sessionID), "type": "abort"]))
    }

    /// Ends the connection (normal closure).
    func close() { outgoing.close() }

    var messages: [JSONValue] {
        received.withLock { $0.compactMap { if case .message(let value) = $0.0 { value } else { nil } } }
    }

    /// Every audio frame received, with its arrival time.
    var audio: [(bytes: [UInt8], at: ContinuousClock.Instant)] {
        received.withLock { $0.compactMap { if case .audio(let bytes) = $0.0 { (bytes, $0.1) } else { nil } } }
    }

    /// Everything received, in order, with arrival times.
    var timeline: [(Received, ContinuousClock.Instant)] { received.withLock { $0 } }

    var hasEnded: Bool { ended.load(ordering: .acquiring) }
    var closeCode: WebSocketErrorCode? { closeFrame.withLock { $0?.closeCode } }
    /// Why the connection could not be made or failed (an upgrade refused, say).
    var connectionError: (any Error)? { failure.withLock { $0 } }

    /// Waits for the first message matching `predicate` at index `after` or later.
    @discardableResult
    func message(
        _ what: String, after: Int = 0, timeout: Duration = .seconds(20), where predicate: @Sendable (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let match = messages.dropFirst(after).first(where: predicate) { return match }
            guard ContinuousClock.now < deadline, !hasEnded else { throw Timeout(waitingFor: what, received: messages) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for a message of `type` (and `state`, when given).
    @discardableResult
    func message(_ type: String, state: String? = nil, after: Int = 0, timeout: Duration = .seconds(20)) async throws -> JSONValue {
        try await message("\(type) \(state ?? "")", after: after, timeout: timeout) { value in
            value["type"]?.stringValue == type && (state == nil || value["state"]?.stringValue == state)
        }
    }

    /// Waits until the connection has ended.
    func waitUntilEnded(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !hasEnded {
            guard ContinuousClock.now < deadline else { throw Timeout(waitingFor: "the connection to end", received: messages) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
