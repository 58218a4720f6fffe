// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// A JSON text frame a voice client (a xiaozhi device, the chat page's microphone) sends.
///
/// Every message is an object with a string `type`. Fields the hub does not read are ignored,
/// `session_id` (which devices put on every message but `hello`) among them. A `type` the hub does
/// not know is ``unknown(type:)``, not an error: newer firmware may send more.
///
/// ```swift
/// switch try VoiceClientMessage.decode(text) {
/// case .hello(let hello): …
/// case .listen(let listen) where listen.state == .stop: …
/// default: …
/// }
/// ```
/// ```json
/// {"type":"hello","version":1,"features":{"mcp":true},"transport":"websocket","audio_params":{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":60}}
/// {"session_id":"…","type":"listen","state":"start","mode":"auto"}
/// {"session_id":"…","type":"listen","state":"detect","text":"你好小智"}
/// {"session_id":"…","type":"abort","reason":"wake_word_detected"}
/// {"session_id":"…","type":"mcp","payload":{"jsonrpc":"2.0","id":1,"result":{}}}
/// ```
public enum VoiceClientMessage: Sendable, Hashable {
    /// The first message of a session: what the client is and how its audio is encoded.
    case hello(Hello)
    /// The client starts or stops listening, or heard its wake word.
    case listen(Listen)
    /// The client wants the answer being spoken stopped; `reason` is `wake_word_detected` when a
    /// wake word interrupted it, nil for a button.
    case abort(reason: String?)
    /// A JSON-RPC message from the device's MCP server (a response or a notification), verbatim.
    case mcp(payload: JSONValue)
    /// A keep-alive (answered with ``VoiceServerMessage/pong(sessionID:)``).
    case ping
    /// A message of a type the hub does not know.
    case unknown(type: String)

    // MARK: Payloads

    /// `hello`: `{"type":"hello","version":1,"features":{"mcp":true,"aec":false},"transport":"websocket","audio_params":{…}}`.
    /// Every field may be absent; the door decides what it needs.
    public struct Hello: Codable, Sendable, Hashable {
        /// The binary protocol version the client speaks (1, 2 or 3; devices send the same value in
        /// the `Protocol-Version` header).
        public var version: Int?
        /// What the client can do besides talking; `{}` when absent.
        public var features: Features
        /// `websocket` from a WebSocket device.
        public var transport: String?
        /// How the client's audio is encoded; check ``VoiceAudioParams/refusalReason``.
        public var audioParams: VoiceAudioParams?

        public init(version: Int? = 1, features: Features = .init(), transport: String? = "websocket", audioParams: VoiceAudioParams? = .device) {
            self.version = version
            self.features = features
            self.transport = transport
            self.audioParams = audioParams
        }

        enum CodingKeys: String, CodingKey {
            case version, features, transport
            case audioParams = "audio_params"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decodeIntegerIfPresent(forKey: .version)
            features = try container.decodeIfPresent(Features.self, forKey: .features) ?? Features()
            transport = try container.decodeIfPresent(String.self, forKey: .transport)
            audioParams = try container.decodeIfPresent(VoiceAudioParams.self, forKey: .audioParams)
        }
    }

    /// `hello.features`: absent flags are false; others (`glyph_push`) are ignored.
    public struct Features: Codable, Sendable, Hashable {
        /// The device runs an MCP server the hub may call (`initialize`, `tools/list`, `tools/call`).
        public var mcp: Bool
        /// The device expects the server to cancel its echo (it then listens while speaking, and
        /// its v2 frames carry playback timestamps).
        public var aec: Bool

        public init(mcp: Bool = false, aec: Bool = false) {
            self.mcp = mcp
            self.aec = aec
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            mcp = try container.decodeIfPresent(Bool.self, forKey: .mcp) ?? false
            aec = try container.decodeIfPresent(Bool.self, forKey: .aec) ?? false
        }

        enum CodingKeys: String, CodingKey {
            case mcp, aec
        }
    }

    /// `listen`: `{"type":"listen","state":"start","mode":"auto"}`, `{"type":"listen","state":"stop"}`,
    /// `{"type":"listen","state":"detect","text":"<wake word>"}`.
    public struct Listen: Codable, Sendable, Hashable {
        public enum State: String, Codable, Sendable {
            /// The client's microphone is on; audio follows.
            case start
            /// Push-to-talk released: what was heard is the utterance.
            case stop
            /// The client heard its wake word (`text`); the buffered wake-word audio came before.
            case detect
        }

        public enum Mode: String, Codable, Sendable {
            /// The hub ends the utterance on silence; the microphone is off while the answer plays.
            case auto
            /// Push-to-talk: the utterance ends with `listen stop`.
            case manual
            /// Like auto, but the microphone stays on while the answer plays (the client cancels
            /// its echo), so speaking interrupts the answer.
            case realtime
        }

        public var state: State
        /// Sent with `start`; nil otherwise.
        public var mode: Mode?
        /// The wake word with `detect`, or text the client typed.
        public var text: String?

        public init(state: State, mode: Mode? = nil, text: String? = nil) {
            self.state = state
            self.mode = mode
            self.text = text
        }
    }

    /// Why a text frame is not a voice message. ``kind`` tells the cases apart; ``description``
    /// says what was wrong in words fit for an `error` message to the client.
    public struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// The frame is not JSON at all.
            case notJSON
            /// The frame is JSON, but not an object.
            case notAnObject
            /// The object has no `type`.
            case missingType
            /// `type` is not a string.
            case typeNotString
            /// A field of a known type is missing, of the wrong JSON type, or has a value the hub
            /// does not know (``field`` names it).
            case invalidField
        }

        public let kind: Kind
        /// The message's `type`, when it was read.
        public let type: String?
        /// The field at fault, dotted from the message (`state`, `audio_params.sample_rate`).
        public let field: String?
        public let description: String

        init(_ kind: Kind, type: String? = nil, field: String? = nil, _ description: String) {
            self.kind = kind
            self.type = type
            self.field = field
            self.description = description
        }
    }

    // MARK: Decoding

    /// Reads one text frame.
    public static func decode(_ text: String) throws(Malformed) -> VoiceClientMessage {
        try decode(Data(text.utf8))
    }

    /// Reads one text frame given as UTF-8 bytes.
    public static func decode(_ bytes: some Collection<UInt8>) throws(Malformed) -> VoiceClientMessage {
        let data = bytes as? Data ?? Data(bytes)
        do {
            return try JSONDecoder().decode(Wire.self, from: data).message
        } catch let malformed as Malformed {
            throw malformed
        } catch {
            throw Malformed(.notJSON, "a voice message must be a JSON object with a \"type\"")
        }
    }

    /// The frame as JSONDecoder sees it: checks the shape step by step so that each mistake gets
    /// its own ``Malformed`` (thrown from here, JSONDecoder passes it through unchanged).
    private struct Wire: Decodable {
        let message: VoiceClientMessage

        private enum Keys: String, CodingKey {
            case type, reason, payload
        }

        init(from decoder: any Decoder) throws {
            let container: KeyedDecodingContainer<Keys>
            do {
                container = try decoder.container(keyedBy: Keys.self)
            } catch {
                throw Malformed(.notAnObject, "a voice message must be a JSON object, not an array, string, number or null")
            }
            guard container.contains(.type) else { throw Malformed(.missingType, "the message has no \"type\"") }
            let type: String
            do {
                type = try container.decode(String.self, forKey: .type)
            } catch {
                throw Malformed(.typeNotString, "\"type\" must be a string")
            }
            do {
                switch type {
                case "hello":
                    message = .hello(try Hello(from: decoder))
                case "listen":
                    message = .listen(try Listen(from: decoder))
                case "abort":
                    message = .abort(reason: try container.decodeIfPresent(String.self, forKey: .reason))
                case "mcp":
                    guard container.contains(.payload), try !container.decodeNil(forKey: .payload) else {
                        throw Malformed(.invalidField, type: type, field: "payload", "\"payload\" is required in an mcp message")
                    }
                    message = .mcp(payload: try container.decode(JSONValue.self, forKey: .payload))
                case "ping":
                    message = .ping
                default:
                    message = .unknown(type: type)
                }
            } catch let malformed as Malformed {
                throw malformed
            } catch let error as DecodingError {
                throw Self.invalidField(error, type: type)
            } catch {
                throw Malformed(.invalidField, type: type, "a field of the \(type) message is invalid")
            }
        }

        /// The field a decoding error is about, and what was wrong with it.
        private static func invalidField(_ error: DecodingError, type: String) -> Malformed {
            let path: [any CodingKey]
            let problem: String
            switch error {
            case .keyNotFound(let key, let context):
                path = context.codingPath + [key]
                problem = "is required"
            case .valueNotFound(_, let context):
                path = context.codingPath
                problem = "must not be null"
            case .typeMismatch(let expected, let context):
                path = context.codingPath
                problem = "must be \(Self.kind(of: expected))"
            case .dataCorrupted(let context):
                path = context.codingPath
                problem = "has a value the hub does not know"
            @unknown default:
                path = []
                problem = "is invalid"
            }
            let field = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return Malformed(.invalidField, type: type, field: field, "\"\(field)\" \(problem) in a \(type) message")
        }

        private static func kind(of type: Any.Type) -> String {
            switch type {
            case is String.Type: "a string"
            case is Bool.Type: "true or false"
            case is Int.Type, is Int64.Type: "an integer"
            case is Double.Type: "a number"
            default: "an object"
            }
        }
    }
}
