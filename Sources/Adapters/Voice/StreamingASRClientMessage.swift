// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A JSON text frame a streaming recognition client sends (its audio comes in binary frames).
///
/// ```json
/// {"type":"end"}
/// ```
public enum StreamingASRClientMessage: Sendable, Hashable {
    /// End the current utterance now, as if the silence had come: its `final` follows.
    case end

    /// Why a text frame was refused: the message for the client.
    public struct Refused: Error, Sendable, Hashable {
        public let message: String
    }

    private struct Envelope: Decodable {
        var type: String?
    }

    /// Reads a text frame.
    /// - Throws: ``Refused`` for anything but a JSON object whose `type` is known.
    public static func decode(_ text: String) throws(Refused) -> StreamingASRClientMessage {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(text.utf8))
        } catch {
            throw Refused(message: #"text frames must be JSON objects such as {"type":"end"}; audio goes in binary frames"#)
        }
        switch envelope.type {
        case "end": return .end
        case let type?: throw Refused(message: "unknown message type \"\(type)\" (known: end)")
        case nil: throw Refused(message: #"a text frame needs a "type" ("end")"#)
        }
    }
}
