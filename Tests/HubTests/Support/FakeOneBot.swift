// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// A OneBot 11 implementation as the tests play it: it dials the hub's reverse WebSocket with the
/// headers NapCat or go-cqhttp would send, pushes event frames, and answers the hub's actions with
/// `{"status":"ok","retcode":0,"data":{"message_id":…}}`, recording every action it receives.
final class FakeOneBot: Sendable {
    enum Frame: Sendable {
        case text(String)
        case binary([UInt8])
    }

    struct ConnectionFailed: Error {}
    struct NoAction: Error, CustomStringConvertible {
        let index: Int
        var description: String { "no action #\(index) arrived in time" }
    }

    let selfID: Int64
    let respondToActions: Bool
    /// The `data` of the answer to an action (the action frame given); nil for the default
    /// `{"message_id":…}`.
    let actionData: @Sendable (JSONValue) -> JSONValue?
    private let outgoing = BoundedQueue<Frame>(capacity: 4096)
    private let received = Mutex([JSONValue]())
    private let connected = Atomic<Bool>(false)
    private let messageIDs = Atomic<Int64>(-2_000_000_000)

    init(selfID: Int64 = 3_847_291_056, respondToActions: Bool = true, actionData: @escaping @Sendable (JSONValue) -> JSONValue? = { _ in nil }) {
        self.selfID = selfID
        self.respondToActions = respondToActions
        self.actionData = actionData
    }

    /// Connects and runs until ``disconnect()``; returns the close frame the hub sent, if any.
    @discardableResult
    func connect(
        port: Int, path: String = "/onebot/v11/ws", authorization: String? = "Bearer \(TestHub.token)", role: String? = "Universal"
    ) async throws -> WebSocketCloseFrame? {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Self-ID")!] = String(selfID)
        if let role { headers[HTTPField.Name("X-Client-Role")!] = role }
        if let authorization { headers[.authorization] = authorization }
        headers[.userAgent] = "CQHttp/4.15.0"
        var logger = Logger(label: "fake-onebot")
        logger.logLevel = .critical
        return try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxFrameSize: 1 << 24, additionalHeaders: headers), logger: logger
        ) { inbound, outbound, _ in
            self.connected.store(true, ordering: .releasing)
            defer { self.connected.store(false, ordering: .releasing) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        guard case .text(let text) = message, let json = try? JSONValue(parsing: text), json["action"] != nil else { continue }
                        if self.respondToActions {
                            let id = self.messageIDs.wrappingAdd(1, ordering: .relaxed).newValue
                            var response = [UInt8]()
                            JSONValue.object([
                                "status": "ok", "retcode": 0, "data": self.actionData(json) ?? ["message_id": .int(id)], "message": "", "wording": "",
                                "echo": json["echo"] ?? .null,
                            ]).write(into: &response)
                            try await outbound.write(.text(String(decoding: response, as: UTF8.self)))
                        }
                        self.received.withLock { $0.append(json) }
                    }
                }
                group.addTask {
                    while let frame = await self.outgoing.next() {
                        switch frame {
                        case .text(let text): try await outbound.write(.text(text))
                        case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Queues a frame for the hub.
    func send(_ text: String) {
        outgoing.tryEnqueue(.text(text))
    }

    func send(_ value: JSONValue) {
        send(value.compactJSON)
    }

    func sendBinary(_ bytes: [UInt8]) {
        outgoing.tryEnqueue(.binary(bytes))
    }

    /// Ends the connection (normal closure).
    func disconnect() {
        outgoing.close()
    }

    var isConnected: Bool { connected.load(ordering: .acquiring) }

    /// Waits until the WebSocket is open.
    func waitUntilConnected(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isConnected {
            guard ContinuousClock.now < deadline else { throw ConnectionFailed() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Connects to the hub on `port`, says it is up (a lifecycle event), runs `body`, and
    /// disconnects, also when `body` throws.
    func whileConnected<T: Sendable>(port: Int, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await self.connect(port: port) }
            try await waitUntilConnected()
            send(OneBotFrames.lifecycle(selfID: selfID))
            let result: T
            do {
                result = try await body()
            } catch {
                disconnect()
                throw error
            }
            disconnect()
            try await tasks.waitForAll()
            return result
        }
    }

    /// Every action received so far.
    var actions: [JSONValue] { received.withLock { $0 } }

    /// The action number `index` (0-based), waiting for it up to `timeout`.
    func action(_ index: Int, timeout: Duration = .seconds(5)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let action = received.withLock({ actions -> JSONValue? in actions.count > index ? actions[index] : nil }) { return action }
            guard ContinuousClock.now < deadline else { throw NoAction(index: index) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Builders for the event frames an implementation sends (ONEBOT11.md §3).
enum OneBotFrames {
    static func lifecycle(selfID: Int64) -> JSONValue {
        ["time": 1_717_000_000, "self_id": .int(selfID), "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"]
    }

    static func heartbeat(selfID: Int64, intervalMS: Int64, online: Bool = true) -> JSONValue {
        [
            "time": 1_717_000_005, "self_id": .int(selfID), "post_type": "meta_event", "meta_event_type": "heartbeat",
            "status": ["online": .bool(online), "good": true], "interval": .int(intervalMS),
        ]
    }

    static func privateMessage(selfID: Int64, user: Int64, messageID: Int64, text: String, time: Int64 = 1_717_000_000) -> JSONValue {
        [
            "time": .int(time), "self_id": .int(selfID), "post_type": "message", "message_type": "private", "sub_type": "friend",
            "message_id": .int(messageID), "user_id": .int(user), "message": [["type": "text", "data": ["text": .string(text)]]],
            "raw_message": .string(text), "font": 0, "sender": ["user_id": .int(user), "nickname": "Bob", "sex": "unknown", "age": 0],
        ]
    }

    /// A group message; `message` is a CQ string (go-cqhttp's default format) or a segment array.
    static func groupMessage(
        selfID: Int64, group: Int64, user: Int64, messageID: Int64, message: JSONValue, time: Int64 = 1_717_000_001,
        postType: String = "message"
    ) -> JSONValue {
        [
            "time": .int(time), "self_id": .int(selfID), "post_type": .string(postType), "message_type": "group", "sub_type": "normal",
            "message_id": .int(messageID), "group_id": .int(group), "user_id": .int(user), "anonymous": .null, "message": message,
            "raw_message": message.stringValue.map(JSONValue.string) ?? "", "font": 0,
            "sender": ["user_id": .int(user), "nickname": "Bob", "card": "Bobby", "role": "member", "level": "12", "title": ""],
        ]
    }
}

extension JSONValue {
    /// The text of every `text` segment of an action's `params.message`, joined.
    var messageText: String {
        (self["params"]?["message"]?.arrayValue ?? []).compactMap { $0["type"] == "text" ? $0["data"]?["text"]?.stringValue : nil }.joined()
    }

    /// The segment types of an action's `params.message`.
    var messageTypes: [String] {
        (self["params"]?["message"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
    }
}
