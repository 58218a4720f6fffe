// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The hub's answer to a device's OTA check: the time, no firmware update, and where the voice
/// WebSocket is. It never has an `mqtt` object (a device given one would use MQTT instead).
///
/// ```json
/// {"server_time":{"timestamp":1786000000000,"timezone_offset":480},
///  "firmware":{"version":"1.6.2","url":""},
///  "websocket":{"url":"wss://hub.example.com/xiaozhi/v1/","token":"t","version":2}}
/// ```
public struct VoiceOTAResponse: Codable, Sendable, Hashable {
    public struct ServerTime: Codable, Sendable, Hashable {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        public var timestamp: Int64
        /// The hub's time zone, in minutes east of UTC (the device keeps local time).
        public var timezoneOffset: Int

        public init(timestamp: Int64, timezoneOffset: Int) {
            self.timestamp = timestamp
            self.timezoneOffset = timezoneOffset
        }

        enum CodingKeys: String, CodingKey {
            case timestamp
            case timezoneOffset = "timezone_offset"
        }
    }

    public struct Firmware: Codable, Sendable, Hashable {
        /// The device's own version: not newer, so no update is offered.
        public var version: String
        /// Where an update would be: always empty.
        public var url: String

        public init(version: String, url: String = "") {
            self.version = version
            self.url = url
        }
    }

    public struct WebSocket: Codable, Sendable, Hashable {
        /// The voice WebSocket URL (`wss://…/xiaozhi/v1/`).
        public var url: String
        /// Sent by the device as `Authorization: Bearer <token>`; empty for none.
        public var token: String
        /// The binary protocol version; nil (absent) for version 1. The device stores it and
        /// announces it on every connection.
        public var version: Int?

        public init(url: String, token: String, version: Int? = nil) {
            self.url = url
            self.token = token
            self.version = version
        }
    }

    public var serverTime: ServerTime
    public var firmware: Firmware
    public var websocket: WebSocket

    public init(serverTime: ServerTime, firmware: Firmware, websocket: WebSocket) {
        self.serverTime = serverTime
        self.firmware = firmware
        self.websocket = websocket
    }

    enum CodingKeys: String, CodingKey {
        case serverTime = "server_time"
        case firmware, websocket
    }

    /// The answer as compact JSON bytes (slashes unescaped).
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        // Strings and integers only: encoding cannot fail.
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }
}
