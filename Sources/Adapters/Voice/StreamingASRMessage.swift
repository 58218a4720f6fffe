// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A JSON text frame the streaming recognition door sends its client.
///
/// ```json
/// {"type":"partial","text":"hello wor"}
/// {"type":"final","text":"hello world","start":0.82,"end":1.94}
/// {"type":"error","message":"binary frames carry 16-bit samples: an even number of bytes, not 1001"}
/// ```
public enum StreamingASRMessage: Sendable, Hashable {
    /// What the current utterance says so far (sent when it changed).
    case partial(text: String)
    /// An utterance ended: what it said, and where its speech started and ended, in seconds from
    /// the stream's start.
    case final(text: String, start: Double, end: Double)
    /// Something the client sent could not be used, or an utterance could not be recognized.
    case error(message: String)

    /// The message as one line of compact JSON.
    public var json: String {
        // Strings and numbers only: encoding cannot fail.
        let data = (try? JSONEncoder().encode(self)) ?? Data(#"{"type":"error","message":"unencodable message"}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension StreamingASRMessage: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type, text, start, end, message
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .partial(let text):
            try container.encode("partial", forKey: .type)
            try container.encode(text, forKey: .text)
        case .final(let text, let start, let end):
            try container.encode("final", forKey: .type)
            try container.encode(text, forKey: .text)
            // Centiseconds: the endpointer's frames are 10 ms.
            try container.encode((start * 100).rounded() / 100, forKey: .start)
            try container.encode((end * 100).rounded() / 100, forKey: .end)
        case .error(let message):
            try container.encode("error", forKey: .type)
            try container.encode(message, forKey: .message)
        }
    }
}
