// SPDX-License-Identifier: Apache-2.0

/// Builds a `multipart/form-data` request body (RFC 7578): text fields and files, in the order added.
///
/// The boundary is 128 random bits in hex, so it cannot turn up in the content by chance. Every
/// line ends with CRLF; a part's content is followed by CRLF and the next delimiter, and the body
/// ends with the close delimiter and CRLF. Names and file names are quoted as browsers and Python's
/// httpx do: `"` becomes `%22`, a backslash is doubled, and control characters (CR and LF among
/// them) are percent-encoded, so nothing in a name can end the header or start a new one.
///
/// ```swift
/// var form = MultipartFormWriter()
/// form.addFile(name: "file", filename: "audio.wav", contentType: "audio/wav", bytes: wav)
/// form.addField(name: "model", value: "whisper-1")
/// request.headers.add(name: "Content-Type", value: form.contentType)
/// request.body = .bytes(ByteBuffer(bytes: form.finish()))
/// ```
public struct MultipartFormWriter: Sendable {
    /// The boundary between parts (without the leading `--`).
    public let boundary: String
    private var body: [UInt8] = []

    /// - Parameter boundary: The boundary to use; a random one when nil. A given boundary must not
    ///   occur in any content, and must be 1…70 characters RFC 2046 allows.
    public init(boundary: String? = nil) {
        self.boundary = boundary ?? Self.randomBoundary()
    }

    /// The value of the request's `Content-Type` header.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a text field.
    public mutating func addField(name: String, value: String) {
        startPart(name: name, filename: nil, contentType: nil)
        body.append(contentsOf: value.utf8)
    }

    /// Adds a file.
    ///
    /// - Parameters:
    ///   - name: The form field's name (`file`).
    ///   - filename: The file name the receiver sees; its extension often decides how it is read.
    ///   - contentType: The file's media type (`audio/wav`).
    ///   - bytes: The file's content, sent as it is.
    public mutating func addFile(name: String, filename: String, contentType: String, bytes: some Collection<UInt8>) {
        startPart(name: name, filename: filename, contentType: contentType)
        body.append(contentsOf: bytes)
    }

    /// The whole body: the parts added, then the close delimiter.
    public consuming func finish() -> [UInt8] {
        if body.isEmpty {
            // A form without parts is still a well-formed body: just the close delimiter.
            body.append(contentsOf: "--\(boundary)--\r\n".utf8)
        } else {
            body.append(contentsOf: "\r\n--\(boundary)--\r\n".utf8)
        }
        return body
    }

    // MARK: Internals

    private mutating func startPart(name: String, filename: String?, contentType: String?) {
        // The CRLF before a delimiter belongs to the delimiter, not to the previous part's content.
        if !body.isEmpty { body.append(contentsOf: "\r\n".utf8) }
        body.append(contentsOf: "--\(boundary)\r\n".utf8)
        body.append(contentsOf: "Content-Disposition: form-data; name=\"".utf8)
        Self.appendQuoted(name, to: &body)
        body.append(UInt8(ascii: "\""))
        if let filename {
            body.append(contentsOf: "; filename=\"".utf8)
            Self.appendQuoted(filename, to: &body)
            body.append(UInt8(ascii: "\""))
        }
        body.append(contentsOf: "\r\n".utf8)
        if let contentType {
            body.append(contentsOf: "Content-Type: ".utf8)
            // A media type is a header value of its own: no line breaks may pass into it.
            body.append(contentsOf: contentType.utf8.filter { $0 >= 0x20 && $0 != 0x7F })
            body.append(contentsOf: "\r\n".utf8)
        }
        body.append(contentsOf: "\r\n".utf8)
    }

    /// Writes `text` as the inside of a quoted parameter value.
    static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), 0x00..<0x20, 0x7F:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            case UInt8(ascii: "\\"):
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            default:
                bytes.append(byte)
            }
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// 32 hex digits from the system's random number generator.
    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return "hub-" + hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
