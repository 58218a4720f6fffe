// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import Synchronization

/// The live voice door: xiaozhi devices and the chat page's microphone on `/ws/voice` (alias
/// `/xiaozhi/v1/`), speaking the xiaozhi WebSocket protocol, answered by the one engine.
///
/// A device is the private session of platform `voice` keyed by its `Device-Id`, with its history
/// in the same store as every other door. Everything is checked before the upgrade (token, device
/// allow-list, the number of sessions); the conversation itself is a ``VoiceConnection``.
///
/// ```swift
/// let door = VoiceDoor(settings: settings, engine: engine, speech: speech, logger: logger)
/// door.webSocketHandshake(path: "/xiaozhi/v1/", headers: headers)  // .success(accepted) or a refusal
/// try await door.serve(accepted, inbound: inbound, outbound: outbound)
/// ```
public final class VoiceDoor: Sendable {
    /// A connection allowed to upgrade: who it is and how it frames audio.
    public struct Accepted: Sendable, Hashable {
        /// `Device-Id` (a device's MAC address), or the page's `device-id` query parameter.
        public var deviceID: String
        /// `Client-Id`, when given.
        public var clientID: String?
        /// The binary framing, from `Protocol-Version`.
        public var version: VoiceBinaryFrame.Version
    }

    /// Why an upgrade was refused: the HTTP status and a message for the JSON body.
    public struct Rejected: Error, Sendable, Hashable {
        public let status: HTTPResponse.Status
        public let message: String
    }

    /// The paths the door answers on (a query may follow).
    public static let paths: Set<String> = ["/ws/voice", "/ws/voice/", "/xiaozhi/v1", "/xiaozhi/v1/"]

    public let settings: VoiceDoorSettings
    let engine: ConversationEngine
    let speech: SpeechEngine
    let metrics: HubMetrics
    let logger: Logger
    /// The bot id of every voice session.
    let botID = "voice"
    /// The web chat door's bot id, when that door is on: the chat page's microphone (device
    /// `web-<client id>`) then speaks in the page's own session.
    let webBotID: String?
    /// The `Origin` check the web chat makes, on the same list.
    private let origins: WebChatHandshake
    private let sessions = Mutex(0)
    /// Whether the live recognizer's models were loaded (at the first hello).
    private let prepared = Atomic<Bool>(false)
    private let turnSequence = Atomic<UInt64>(0)
    private let instance = UInt64.random(in: 0..<(1 << 32))

    public init(
        settings: VoiceDoorSettings, engine: ConversationEngine, speech: SpeechEngine, webBotID: String? = nil, metrics: HubMetrics = .disabled,
        logger: Logger
    ) {
        self.settings = settings
        self.webBotID = webBotID
        self.origins = WebChatHandshake(accessToken: nil, allowedOrigins: settings.allowedOrigins)
        self.engine = engine
        self.speech = speech
        self.metrics = metrics
        self.logger = logger
    }

    /// Voice connections open now.
    public var openSessions: Int { sessions.withLock { $0 } }

    /// The verdict on a WebSocket upgrade to `path` (query included): accepted, refused, or nil when
    /// no voice WebSocket lives there.
    /// `host` is the request's Host, for the `Origin` check.
    public func webSocketHandshake(path: String, host: String? = nil, headers: HTTPFields) -> Result<Accepted, Rejected>? {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let route = parts.first, Self.paths.contains(String(route)) else { return nil }
        let query = parts.count > 1 ? String(parts[1]) : nil
        func value(_ header: String, query name: String) -> String? {
            let found = headers[HTTPField.Name(header)!] ?? AccessCredentials.queryValue(name, in: query)
            return found.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
        }
        if let refusal = origins.checkOrigin(headers[.origin], host: host) {
            refused("origin_not_allowed")
            return .failure(Rejected(status: refusal.status, message: refusal.message))
        }
        let presentedQuery = AccessCredentials.queryValue("access_token", in: query) == nil
            ? AccessCredentials.queryValue("token", in: query).map { "access_token=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            : query
        switch AccessCredentials.check(authorization: headers[.authorization], query: presentedQuery, expected: settings.accessToken) {
        case .ok: break
        case .missing:
            refused("missing_token")
            return .failure(Rejected(status: .unauthorized, message: "a token is required: Authorization: Bearer <token>, or ?token= from a browser"))
        case .wrong:
            refused("wrong_token")
            return .failure(Rejected(status: .forbidden, message: "the token is wrong"))
        }
        guard let deviceID = value("Device-Id", query: "device-id") else {
            return .failure(Rejected(status: .badRequest, message: "a Device-Id header (or device-id query parameter) is required"))
        }
        guard deviceID.utf8.count <= 128, deviceID.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return .failure(Rejected(status: .badRequest, message: "the Device-Id must be at most 128 printable ASCII characters"))
        }
        guard settings.allows(deviceID: deviceID) else {
            refused("device_not_allowed", deviceID: deviceID)
            return .failure(Rejected(status: .forbidden, message: "this device is not allowed here"))
        }
        let announced = value("Protocol-Version", query: "protocol-version")
        guard let version = VoiceBinaryFrame.Version(announced: announced.map { Int($0) ?? -1 }) else {
            return .failure(Rejected(status: .badRequest, message: "Protocol-Version must be 1, 2 or 3"))
        }
        guard openSessions < settings.maxSessions else {
            return .failure(Rejected(status: .serviceUnavailable, message: "too many voice sessions; try again later"))
        }
        return .success(Accepted(deviceID: deviceID, clientID: value("Client-Id", query: "client-id"), version: version))
    }

    /// Counts and logs a refused upgrade (never with the token).
    private func refused(_ reason: String, deviceID: String? = nil) {
        metrics.malformedInput(door: "voice", reason: reason)
        logger.info("voice connection refused", metadata: ["hub.reason": "\(reason)", "hub.device": "\(deviceID ?? "-")"])
    }

    /// Runs one voice connection until it ends.
    public func serve(_ accepted: Accepted, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        countSession(+1)
        defer { countSession(-1) }
        let connection = VoiceConnection(door: self, accepted: accepted)
        try await connection.run(inbound: inbound, outbound: outbound)
    }

    /// Loads the live recognizer's models in the background at the first hello, so that the first
    /// utterance, which ends a few seconds later, does not wait for them (PocketSphinx: about half a
    /// second per decoder, and 90 MB each, which a hub without voice clients never spends).
    func prepareRecognition() {
        guard !prepared.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Task { [speech] in await speech.recognition.prepareLive() }
    }

    /// Whose conversation a device's utterances belong to: a device's own private session of
    /// platform `voice`, or, for the chat page's microphone (`web-<client id>` while the web door is
    /// on), the page's web session, so that typed and spoken turns are one conversation.
    func conversation(of deviceID: String) -> (platform: Platform, botID: String, user: String) {
        if let webBotID, deviceID.hasPrefix(Self.webDevicePrefix) {
            let client = String(deviceID.dropFirst(Self.webDevicePrefix.count))
            if WebChatDoor.isValidClientID(client) { return (.web, webBotID, client) }
        }
        return (.voice, botID, deviceID)
    }

    /// The device id prefix the chat page's microphone uses.
    static let webDevicePrefix = "web-"

    /// The session of a device.
    public func sessionKey(deviceID: String) -> SessionKey {
        let conversation = conversation(of: deviceID)
        return SessionKey(platform: conversation.platform, botID: conversation.botID, group: nil, user: conversation.user)
    }

    /// A unique id for a device's utterance.
    func nextUtteranceID() -> String {
        "\(String(instance, radix: 36))-\(turnSequence.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    private func countSession(_ change: Int) {
        sessions.withLock { count in
            count += change
            metrics.connectedClients(door: "voice", count: count)
        }
    }
}
