// SPDX-License-Identifier: Apache-2.0

/// One part of a `multipart/form-data` body: a field or a file.
public struct MultipartPart: Sendable, Hashable {
    /// The field name (`name` of its content disposition).
    public var name: String
    /// The file name the sender gave, as sent (`filename`, or a UTF-8 `filename*`); nil for a field.
    /// Percent-escapes that senders write for `"` and control characters are not undone.
    public var filename: String?
    /// The part's `Content-Type`, when it has one.
    public var contentType: String?
    /// The content, exactly as sent.
    public var body: [UInt8]

    public init(name: String, filename: String? = nil, contentType: String? = nil, body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.body = body
    }

    /// The content as text, nil when it is not valid UTF-8.
    public var text: String? { String(validating: body, as: UTF8.self) }
}

/// Splits a `multipart/form-data` request body (RFC 7578, RFC 2046) into its parts.
///
/// It is strict and bounded: the boundary must come from the `Content-Type` header and be valid
/// (1…70 characters of RFC 2046's set), each part must start with a delimiter line, have headers
/// (at most ``Limits/maxHeaderBytes``) with a `form-data` content disposition that names it, and
/// the body must end with the close delimiter. At most ``Limits/maxParts`` parts are read. The
/// caller bounds the body's total size before it gets here. A delimiter is recognized only as a
/// whole line (CRLF, `--`, the boundary, then CRLF or `--`); the boundary text elsewhere in a part
/// is content. Preamble and epilogue are ignored, as RFC 2046 asks. No package the hub depends on
/// (Hummingbird, swift-nio-extras, AsyncHTTPClient) parses multipart bodies, so this one does.
///
/// ```swift
/// let parts = try MultipartFormParser().parse(
///     contentType: request.headers[.contentType] ?? "", body: buffer.readableBytesView)
/// let file = parts.first { $0.name == "file" }
/// ```
public struct MultipartFormParser: Sendable {
    /// What the parser accepts.
    public struct Limits: Sendable, Hashable {
        /// Most parts in one body.
        public var maxParts: Int
        /// Most bytes of headers in one part (not counting the empty line that ends them).
        public var maxHeaderBytes: Int

        public init(maxParts: Int = 16, maxHeaderBytes: Int = 8 << 10) {
            self.maxParts = maxParts
            self.maxHeaderBytes = maxHeaderBytes
        }
    }

    /// The longest boundary RFC 2046 allows.
    public static let maxBoundaryLength = 70

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The parts of `body`, in order.
    ///
    /// - Parameters:
    ///   - contentType: The request's `Content-Type` header value.
    ///   - body: The whole request body.
    /// - Throws: ``MultipartError``.
    public func parse(contentType: String, body: some Collection<UInt8>) throws -> [MultipartPart] {
        let boundary = try Self.boundary(fromContentType: contentType)
        let parsed = try body.withContiguousStorageIfAvailable { try parse(boundary: boundary, body: $0) }
        if let parsed { return parsed }
        return try Array(body).withUnsafeBufferPointer { try parse(boundary: boundary, body: $0) }
    }

    /// The boundary of a `multipart/form-data` content type, quoted or not.
    public static func boundary(fromContentType contentType: String) throws -> String {
        let value = Array(contentType.utf8)
        let typeEnd = value.firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
        let mediaType = String(decoding: value[..<typeEnd], as: UTF8.self).trimmingLinearSpace
        guard mediaType.lowercased() == "multipart/form-data" else { throw MultipartError.notFormData }
        guard let parameters = HeaderParameters.parse(value[typeEnd...]) else {
            throw MultipartError.invalidBoundary.detailed("the content type's parameters are malformed")
        }
        let boundaries = parameters.filter { $0.name == "boundary" }
        guard let boundary = boundaries.first?.value else { throw MultipartError.missingBoundary }
        guard boundaries.count == 1 else { throw MultipartError.invalidBoundary.detailed("the content type has more than one boundary") }
        guard isValidBoundary(boundary) else { throw MultipartError.invalidBoundary }
        return boundary
    }

    /// RFC 2046: 1…70 of `bchars`, not ending with a space.
    static func isValidBoundary(_ boundary: String) -> Bool {
        let bytes = boundary.utf8
        guard (1...maxBoundaryLength).contains(bytes.count), bytes.last != UInt8(ascii: " ") else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            case UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "+"), UInt8(ascii: "_"), UInt8(ascii: ","),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "?"),
                UInt8(ascii: " "):
                true
            default:
                false
            }
        }
    }

    // MARK: Body

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dash = UInt8(ascii: "-")

    private enum DelimiterKind {
        /// Another part follows.
        case part
        /// The close delimiter: the body's parts are over.
        case close
    }

    private func parse(boundary: String, body: UnsafeBufferPointer<UInt8>) throws -> [MultipartPart] {
        // "\r\n--boundary": what ends every part's content.
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var parts: [MultipartPart] = []

        // The first delimiter may start the body, without the CRLF; else it ends a preamble.
        var next: (start: Int, end: Int, kind: DelimiterKind)?
        if let kind = Self.delimiterKind(body, matchedEndingAt: delimiter.count - 2, hasPrefix: delimiter[2...]) {
            next = (0, Self.afterDelimiter(body, from: delimiter.count - 2, kind: kind), kind)
        } else {
            next = Self.findDelimiter(delimiter, in: body, from: 0)
        }
        guard var current = next else { throw MultipartError.missingFirstDelimiter }

        while current.kind == .part {
            guard parts.count < limits.maxParts else {
                throw MultipartError.tooManyParts.detailed("the form has more than \(limits.maxParts) parts")
            }
            let index = parts.count + 1
            let (headers, contentStart) = try headerBlock(body, from: current.end, part: index)
            guard let following = Self.findDelimiter(delimiter, in: body, from: contentStart) else {
                throw MultipartError.missingFinalDelimiter
            }
            var part = try Self.part(headers: UnsafeBufferPointer(rebasing: body[headers]), index: index)
            part.body = Array(body[contentStart..<following.start])
            parts.append(part)
            current = following
        }
        return parts
    }

    /// The range of a part's header lines starting at `start`, and where its content starts.
    private func headerBlock(_ body: UnsafeBufferPointer<UInt8>, from start: Int, part: Int) throws -> (Range<Int>, Int) {
        // No headers at all: the empty line comes first (reported as a part without a name).
        if start + 1 < body.count, body[start] == Self.cr, body[start + 1] == Self.lf { return (start..<start, start + 2) }
        // The empty line may end right after the largest header block allowed.
        let limit = body.count - start - 4 <= limits.maxHeaderBytes ? body.count : start + limits.maxHeaderBytes + 4
        var index = start
        while index + 3 < limit {
            if body[index] == Self.cr, body[index + 1] == Self.lf, body[index + 2] == Self.cr, body[index + 3] == Self.lf {
                return (start..<index, index + 4)
            }
            index += 1
        }
        if limit == body.count {
            throw MultipartError.missingFinalDelimiter.detailed("the body ends inside the headers of part \(part)")
        }
        throw MultipartError.headersTooLarge.detailed("the headers of part \(part) are longer than \(limits.maxHeaderBytes) bytes")
    }

    /// The next whole delimiter line at or after `start`: where its CRLF starts, where the next part
    /// (or the epilogue) starts, and which kind it is.
    ///
    /// The pattern's first byte (CR) occurs nowhere else in it (a boundary has no CR), so after a
    /// mismatch at offset `j` no match can start before it: the search is linear, whatever the body.
    private static func findDelimiter(
        _ delimiter: [UInt8], in body: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> (start: Int, end: Int, kind: DelimiterKind)? {
        var candidate = start
        while candidate + delimiter.count <= body.count {
            var matched = 0
            while matched < delimiter.count, body[candidate + matched] == delimiter[matched] { matched += 1 }
            if matched == delimiter.count, let kind = delimiterKind(body, matchedEndingAt: candidate + matched, hasPrefix: nil) {
                return (candidate, afterDelimiter(body, from: candidate + matched, kind: kind), kind)
            }
            candidate += max(1, matched)
        }
        return nil
    }

    /// Whether what follows a boundary at `end` makes it a delimiter line: `--` (close), or optional
    /// spaces and tabs then CRLF. With `prefix`, the bytes before `end` must first equal it.
    private static func delimiterKind(
        _ body: UnsafeBufferPointer<UInt8>, matchedEndingAt end: Int, hasPrefix prefix: ArraySlice<UInt8>?
    ) -> DelimiterKind? {
        if let prefix {
            guard end <= body.count, body[0..<end].elementsEqual(prefix) else { return nil }
        }
        if end + 1 < body.count, body[end] == dash, body[end + 1] == dash { return .close }
        var index = end
        while index < body.count, body[index] == UInt8(ascii: " ") || body[index] == UInt8(ascii: "\t") { index += 1 }
        if index + 1 < body.count, body[index] == cr, body[index + 1] == lf { return .part }
        return nil
    }

    /// Where a part's headers start after the boundary ending at `end` (the end, for a close).
    private static func afterDelimiter(_ body: UnsafeBufferPointer<UInt8>, from end: Int, kind: DelimiterKind) -> Int {
        guard kind == .part else { return body.count }
        var index = end
        while body[index] != cr { index += 1 }  // padding, checked by delimiterKind
        return index + 2
    }

    // MARK: Headers

    /// A part (without its content) from its header lines.
    private static func part(headers: UnsafeBufferPointer<UInt8>, index: Int) throws -> MultipartPart {
        var disposition: [HeaderParameters.Parameter]?
        var contentType: String?
        for line in lines(headers) {
            guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t"),
                let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy(HeaderParameters.isTokenByte),
                !line.contains(cr), !line.contains(lf),
                let value = String(validating: line[(colon + 1)...], as: UTF8.self)
            else {
                throw MultipartError.malformedHeader.detailed("part \(index) has a header that is not `Name: value`")
            }
            switch String(decoding: line[..<colon], as: UTF8.self).lowercased() {
            case "content-disposition":
                guard disposition == nil else {
                    throw MultipartError.malformedHeader.detailed("part \(index) has two Content-Disposition headers")
                }
                disposition = try formData(Array(value.utf8), index: index)
            case "content-type":
                guard contentType == nil else { throw MultipartError.malformedHeader.detailed("part \(index) has two Content-Type headers") }
                contentType = value.trimmingLinearSpace
            default:
                continue
            }
        }
        guard let disposition, let name = disposition.last(where: { $0.name == "name" })?.value else {
            throw MultipartError.missingName.detailed("part \(index) has no name")
        }
        // `name=""` names nothing either (the fuzzer found it accepted).
        guard !name.isEmpty else { throw MultipartError.missingName.detailed("part \(index) has an empty name") }
        let extended = disposition.last(where: { $0.name == "filename*" }).flatMap { HeaderParameters.decodeExtendedValue($0.value) }
        let filename = extended ?? disposition.last(where: { $0.name == "filename" })?.value
        return MultipartPart(name: name, filename: filename, contentType: contentType, body: [])
    }

    /// The parameters of a `form-data` content disposition.
    private static func formData(_ value: [UInt8], index: Int) throws -> [HeaderParameters.Parameter] {
        let typeEnd = value.firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
        let type = String(decoding: value[..<typeEnd], as: UTF8.self).trimmingLinearSpace
        guard type.lowercased() == "form-data" else {
            throw MultipartError.malformedHeader.detailed("part \(index) is not form-data (Content-Disposition: \(type.prefix(40)))")
        }
        guard let parameters = HeaderParameters.parse(value[typeEnd...]) else {
            throw MultipartError.malformedHeader.detailed("part \(index) has malformed Content-Disposition parameters")
        }
        return parameters
    }

    /// The CRLF-separated lines of a header block.
    private static func lines(_ headers: UnsafeBufferPointer<UInt8>) -> [Slice<UnsafeBufferPointer<UInt8>>] {
        var lines: [Slice<UnsafeBufferPointer<UInt8>>] = []
        var lineStart = 0
        var index = 0
        while index < headers.count {
            if index + 1 < headers.count, headers[index] == cr, headers[index + 1] == lf {
                lines.append(headers[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        // The block stops before the empty line, so its last line has no CRLF after it.
        if !headers.isEmpty { lines.append(headers[lineStart..<headers.count]) }
        return lines
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingLinearSpace: String {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
