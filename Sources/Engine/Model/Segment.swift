// SPDX-License-Identifier: Apache-2.0

/// Media that lives elsewhere (a URL) or travels with the message (bytes).
public enum MediaReference: Sendable, Hashable {
    /// A fetchable location (`https://…`, or a platform file name).
    case url(String)
    /// The bytes themselves, with a format such as `wav`, `mp3`, `png`.
    case bytes([UInt8], format: String)
    /// A file the platform names (fetched through its door, e.g. OneBot's `get_record`), with the
    /// direct URL it gave too, if any.
    case platformFile(id: String, url: String?)
    /// A file the hub serves itself at `path` (`/media/{id}.{ext}`), with its bytes: web pages
    /// show it by its path, QQ gets the bytes.
    case hosted(path: String, bytes: [UInt8], format: String)
}

/// One piece of a message's content, independent of the door it came through.
public enum Segment: Sendable, Hashable {
    /// Plain text.
    case text(String)
    /// A mention (@) of a user; `"all"` mentions everyone.
    case mention(String)
    /// An image.
    case image(MediaReference)
    /// A voice clip.
    case audio(MediaReference)
    /// A reference to an earlier message, by the platform's message id.
    case quote(String)
    /// A platform segment the engine does not model, kept verbatim so it can be passed back.
    case unknown(type: String, data: JSONValue)
}

extension Array where Element == Segment {
    /// The text segments joined, everything else left out.
    public var plainText: String {
        var text = ""
        for case .text(let part) in self { text += part }
        return text
    }
}
