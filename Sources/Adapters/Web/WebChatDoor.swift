// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Logging
import Synchronization

/// The web chat door: a chat WebSocket per browser tab (`/ws/chat/{client_id}`) and a REST/SSE
/// endpoint (`POST /api/v1/chat`), both feeding the one ``ConversationEngine``.
///
/// A client is a `client_id` the page keeps in localStorage; its conversation is the private
/// session `web:<botID>:u<client_id>` in the same store as every other door's. Messages become
/// ``ConversationEvent``s with platform `web`; answers stream back as ``WebChatFrame``s.
///
/// ```swift
/// let door = WebChatDoor(settings: .init(accessToken: "t"), engine: engine, metrics: metrics, logger: logger)
/// door.addRoutes(to: router)            // POST /api/v1/chat, GET /api/v1/chat/models
/// door.webSocketHandshake(path:headers:) // for the server's upgrade decision
/// ```
public final class WebChatDoor: Sendable {
    /// The client closed the connection before its answer could be sent.
    struct ClientGone: Error {}

    public let settings: WebChatDoorSettings
    /// The token and origin checks, built once from the settings.
    let handshake: WebChatHandshake
    let engine: ConversationEngine
    let metrics: HubMetrics
    let logger: Logger
    /// Chat WebSocket connections open now.
    let connections = Mutex(0)
    /// The open connections of each client, for answers that arrive outside a turn (a drawn picture).
    let live = Mutex<[String: [ObjectIdentifier: WebChatReplySink]]>([:])
    private let sequence = Atomic<UInt64>(0)
    private let instance = UInt64.random(in: 0..<(1 << 32))

    public init(settings: WebChatDoorSettings, engine: ConversationEngine, metrics: HubMetrics = .disabled, logger: Logger) {
        self.settings = settings
        self.handshake = WebChatHandshake(accessToken: settings.accessToken, allowedOrigins: settings.allowedOrigins)
        self.engine = engine
        self.metrics = metrics
        self.logger = logger
    }

    /// Client ids are 1 to 64 letters, digits, `-` and `_`.
    public static func isValidClientID(_ id: some StringProtocol) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default:
                    return false
                }
            }
    }

    /// The session of a client.
    public func sessionKey(clientID: String) -> SessionKey {
        SessionKey(platform: .web, botID: settings.botID, group: nil, user: clientID)
    }

    /// A message id for a client that sent none.
    func makeMessageID() -> String {
        "hub-\(String(instance, radix: 36))-\(sequence.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    /// The event for a client's message.
    func event(for message: WebChatInbound, clientID: String) -> ConversationEvent {
        metrics.eventReceived(door: "web", type: "message")
        return ConversationEvent(
            id: "web:\(settings.botID):\(clientID):\(message.id)", platform: .web, botID: settings.botID, scope: .private(user: clientID),
            sender: Sender(id: clientID), content: [.text(message.text)], platformMessageID: message.id)
    }

    /// Hands a client's message to the engine; the answer goes to `sink`. Never waits.
    func submit(_ message: WebChatInbound, clientID: String, sink: WebChatReplySink) -> ConversationEngine.Admission {
        let admission = engine.submit(event(for: message, clientID: clientID), to: sink)
        logRefusal(admission, clientID: clientID)
        return admission
    }

    func logRefusal(_ admission: ConversationEngine.Admission, clientID: String) {
        if case .accepted = admission { return }
        logger.info("web message not taken", metadata: ["hub.client": "\(clientID)", "hub.admission": "\(admission)"])
    }

    /// The `history` frame for a client: its recent messages, its model and the models on offer.
    func history(clientID: String) async throws -> WebChatFrame {
        let snapshot = try await engine.session(sessionKey(clientID: clientID), limit: settings.historyMessages)
        return .history(
            messages: snapshot.history.filter { $0.role != .system }, model: snapshot.settings.model, models: engine.models.available)
    }

    /// Where the results of a client's jobs (`/draw`) go: to every tab it has open now as an
    /// answer of its own; the session's history has them for tabs that come back later.
    public var jobSink: any AnswerSink { WebChatJobSink(door: self) }

    /// What a client is told when its message was not taken.
    static func refusal(_ admission: ConversationEngine.Admission) -> String? {
        switch admission {
        case .accepted: return nil
        case .duplicate: return "This message id was used before; the message was not sent again."
        case .ignored: return "The message was not for the bot."
        case .busy: return nil  // the engine sends the notice through the sink
        case .limited: return admission.notice
        }
    }
}
