// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Testing

@testable import Engine

@Suite struct MultipartFormParserTests {
    private let parser = MultipartFormParser()

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The error parsing `body` throws; records an issue when it parses.
    private func failure(
        _ contentType: String, _ body: [UInt8], parser: MultipartFormParser = MultipartFormParser(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> MultipartError? {
        do {
            let parts = try parser.parse(contentType: contentType, body: body)
            Issue.record("expected an error, got \(parts.count) parts", sourceLocation: sourceLocation)
            return nil
        } catch let error as MultipartError {
            return error
        } catch {
            Issue.record("expected a MultipartError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Bodies as clients write them

    /// Written by Python's requests 2.34 (`requests.Request(files=…, data=…).prepare().body`): fields
    /// first, `"` in a file name as `%22`, a backslash left alone.
    @Test func bodyFromPythonRequests() throws {
        let boundary = "af6b178030ac0bd53954ba7fd79737f6"
        let body =
            bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n")
            + bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nzh\r\n")
            + bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"speech %22q%22\\x.wav\"\r\n")
            + bytes("Content-Type: audio/wav\r\n\r\nRIFF\u{0}\u{1}--abc\r\n") + [0xFF] + bytes("\r\n--\(boundary)--\r\n")
        let parts = try parser.parse(contentType: "multipart/form-data; boundary=\(boundary)", body: body)
        #expect(
            parts == [
                MultipartPart(name: "model", body: bytes("whisper-1")),
                MultipartPart(name: "language", body: bytes("zh")),
                MultipartPart(
                    name: "file", filename: "speech %22q%22\\x.wav", contentType: "audio/wav", body: bytes("RIFF\u{0}\u{1}--abc\r\n") + [0xFF]),
            ])
        #expect(parts[0].text == "whisper-1")
        #expect(parts[2].text == nil)
    }

    /// Written by Python's httpx 0.29: the same layout, but a backslash in a file name doubled, a
    /// UTF-8 file name sent raw, and a field with line breaks in it.
    @Test func bodiesFromPythonHTTPX() throws {
        let boundary = "1b29c052567902a8f2473c57c850560f"
        let escaped =
            bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"speech %22q%22\\\\x.wav\"\r\n")
            + bytes("Content-Type: audio/wav\r\n\r\nRIFF\r\n--\(boundary)--\r\n")
        let file = try #require(try parser.parse(contentType: "multipart/form-data; boundary=\(boundary)", body: escaped).first)
        #expect(file.filename == "speech %22q%22\\x.wav")  // as requests' gives it
        #expect(file.body == bytes("RIFF"))

        let other = "496e35d05e9ff73676af1d01189cf3bc"
        let unicode =
            bytes("--\(other)\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nline1\r\nline2\r\n")
            + bytes("--\(other)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"名字.wav\"\r\nContent-Type: audio/wav\r\n\r\nab\r\n")
            + bytes("--\(other)--\r\n")
        let parts = try parser.parse(contentType: "multipart/form-data; boundary=\(other)", body: unicode)
        #expect(
            parts == [
                MultipartPart(name: "prompt", body: bytes("line1\r\nline2")),
                MultipartPart(name: "file", filename: "名字.wav", contentType: "audio/wav", body: bytes("ab")),
            ])
    }

    /// curl's layout: a boundary of dashes and hex, its own media type guess.
    @Test func bodyFromCurl() throws {
        let boundary = "------------------------d74496d66958873e"
        let body =
            bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/x-wav\r\n\r\n")
            + bytes("RIFF....WAVE") + bytes("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nsensevoice\r\n")
            + bytes("--\(boundary)--\r\n")
        let parts = try parser.parse(contentType: "multipart/form-data; boundary=\(boundary)", body: body)
        #expect(parts.map(\.name) == ["file", "model"])
        #expect(parts[0].contentType == "audio/x-wav")
        #expect(parts[0].body == bytes("RIFF....WAVE"))
        #expect(parts[1].text == "sensevoice")
    }

    /// RFC 2046's own example: a quoted boundary with a space, a preamble, an epilogue, transport
    /// padding after a delimiter, and a media type in other letter case with more parameters.
    @Test func quotedBoundaryPreambleEpilogueAndPadding() throws {
        let body = bytes(
            "This is the preamble.  It is to be ignored.\r\n"
                + "--simple boundary\r\nContent-Disposition: form-data; name=a\r\n\r\nfirst\r\n"
                + "--simple boundary \t\r\ncontent-disposition: Form-Data; NAME=\"b\"; Filename=b.txt\r\ncontent-type: text/plain; charset=us-ascii\r\n"
                + "X-Other:  ignored\r\n\r\nsecond\r\n"
                + "--simple boundary--\r\nThis is the epilogue.  It is also to be ignored.\r\n")
        let parts = try parser.parse(contentType: "Multipart/Form-Data; charset=utf-8; Boundary=\"simple boundary\"", body: body)
        #expect(
            parts == [
                MultipartPart(name: "a", body: bytes("first")),
                MultipartPart(name: "b", filename: "b.txt", contentType: "text/plain; charset=us-ascii", body: bytes("second")),
            ])
    }

    @Test func extendedFileNameWinsAndEmptyContentIsKept() throws {
        let body = bytes(
            "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fallback.wav\"; filename*=UTF-8''%E5%90%8D%20a.wav\r\n\r\n\r\n"
                + "--x\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--x--")
        let parts = try parser.parse(contentType: "multipart/form-data; boundary=x", body: body)
        #expect(parts == [MultipartPart(name: "file", filename: "名 a.wav", body: []), MultipartPart(name: "empty", body: [])])
    }

    /// The boundary text inside content is content unless it is a whole delimiter line: CRLF, `--`,
    /// the boundary, then CRLF (or padding and CRLF) or `--`.
    @Test func boundaryTextInsideContentIsKeptIntact() throws {
        let boundary = "XyZ"
        let tricky = [
            "XyZ", "--XyZ", "a--XyZ\r\n", "\n--XyZ\n", "\r--XyZ\r\n", "\r\n-XyZ\r\n", "\r\n--XyZa\r\n", "\r\n--XyZ-\r\n",
            "\r\n--XyZ \tx\r\n", "\r\n--Xy\r\n", "\r\n--xyz\r\n", "--XyZ--",
        ].joined(separator: "|")
        let body = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n\(tricky)\r\n--XyZ--\r\n")
        let parts = try parser.parse(contentType: "multipart/form-data; boundary=\(boundary)", body: body)
        #expect(parts == [MultipartPart(name: "t", body: bytes(tricky))])
    }

    @Test func anyCollectionOfBytesIsAccepted() throws {
        let body = bytes("--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nvalue\r\n--b--\r\n")
        let expected = [MultipartPart(name: "n", body: bytes("value"))]
        #expect(try parser.parse(contentType: "multipart/form-data; boundary=b", body: ByteBuffer(bytes: body).readableBytesView) == expected)
        // Not contiguous: copied first.
        #expect(try parser.parse(contentType: "multipart/form-data; boundary=b", body: body.lazy.map { $0 }) == expected)
    }

    // MARK: Limits

    private func form(parts count: Int, headerPadding: Int = 0) -> [UInt8] {
        var body: [UInt8] = []
        for index in 0..<count {
            let padding = headerPadding > 0 ? "X-Padding: " + String(repeating: "p", count: headerPadding) + "\r\n" : ""
            body += bytes("--b\r\nContent-Disposition: form-data; name=\"f\(index)\"\r\n\(padding)\r\nv\r\n")
        }
        return body + bytes("--b--\r\n")
    }

    @Test func atMostMaxPartsParts() throws {
        #expect(try parser.parse(contentType: "multipart/form-data; boundary=b", body: form(parts: 16)).count == 16)
        let error = failure("multipart/form-data; boundary=b", form(parts: 17))
        #expect(error == .tooManyParts)
        #expect(error?.message == "the form has more than 16 parts")
        let small = MultipartFormParser(limits: .init(maxParts: 2))
        #expect(failure("multipart/form-data; boundary=b", form(parts: 3), parser: small) == .tooManyParts)
    }

    @Test func atMostMaxHeaderBytesOfHeaders() throws {
        let limits = MultipartFormParser.Limits(maxParts: 4, maxHeaderBytes: 200)
        let dispositionLine = "Content-Disposition: form-data; name=\"f0\"\r\n".utf8.count
        // Headers of exactly 200 bytes (the CRLF between the two lines counted, the empty line not).
        let fits = form(parts: 1, headerPadding: 200 - dispositionLine - "X-Padding: ".utf8.count)
        #expect(try MultipartFormParser(limits: limits).parse(contentType: "multipart/form-data; boundary=b", body: fits).count == 1)
        let tooLong = form(parts: 1, headerPadding: 201 - dispositionLine - "X-Padding: ".utf8.count)
        let error = failure("multipart/form-data; boundary=b", tooLong, parser: MultipartFormParser(limits: limits))
        #expect(error == .headersTooLarge)
        #expect(error?.message == "the headers of part 1 are longer than 200 bytes")
        // The default: 8 KiB.
        #expect(failure("multipart/form-data; boundary=b", form(parts: 1, headerPadding: 9 << 10)) == .headersTooLarge)
    }

    // MARK: Malformed content types

    @Test(arguments: [
        "application/json", "multipart/mixed; boundary=b", "multipart/form-data-x; boundary=b", "", "form-data; boundary=b",
        "multipart/form-data boundary=b",
    ])
    func notFormData(contentType: String) {
        #expect(failure(contentType, bytes("--b--\r\n")) == .notFormData)
    }

    @Test(arguments: ["multipart/form-data", "multipart/form-data;", "multipart/form-data; charset=utf-8", "multipart/form-data; boundaryx=b"])
    func missingBoundary(contentType: String) {
        #expect(failure(contentType, bytes("--b--\r\n")) == .missingBoundary)
    }

    @Test(arguments: [
        "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + String(repeating: "a", count: 71),
        "multipart/form-data; boundary=\"ends with space \"", "multipart/form-data; boundary=\"a@b\"", "multipart/form-data; boundary=\"a\u{7F}b\"",
        "multipart/form-data; boundary=\"é\"", "multipart/form-data; boundary=\"unterminated", "multipart/form-data; boundary",
        "multipart/form-data; boundary=a b", "multipart/form-data; boundary=a; boundary=a",
    ])
    func invalidBoundary(contentType: String) {
        #expect(failure(contentType, bytes("--a--\r\n")) == .invalidBoundary)
    }

    @Test func theLongestBoundaryIsAccepted() throws {
        let boundary = String(repeating: "'()+_,-./:=?", count: 5) + "abcdefghi1"  // 70 characters
        #expect(boundary.count == MultipartFormParser.maxBoundaryLength)
        let body = bytes("--\(boundary)\r\nContent-Disposition: form-data; name=n\r\n\r\nv\r\n--\(boundary)--")
        #expect(try parser.parse(contentType: "multipart/form-data; boundary=\"\(boundary)\"", body: body).count == 1)
    }

    // MARK: Malformed bodies

    @Test(arguments: ["", "no boundary here", "-b\r\n", "--b", "--bb\r\n", "--B\r\n", "x\n--b\r\n"])
    func missingFirstDelimiter(body: String) {
        #expect(failure("multipart/form-data; boundary=b", bytes(body)) == .missingFirstDelimiter)
    }

    @Test(arguments: [
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent",  // cut in the content
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b",  // cut after the boundary
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b-",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b\r",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b\r\n",  // a part begun, then nothing
        "--b\r\nContent-Disposition: form-data; name=a\r\n",  // cut in the headers
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\n--b--\n",  // bare line feeds
    ])
    func missingFinalDelimiter(body: String) {
        #expect(failure("multipart/form-data; boundary=b", bytes(body)) == .missingFinalDelimiter)
    }

    @Test(arguments: [
        "Content-Disposition: form-data; filename=\"a.wav\"",  // no name
        "Content-Disposition: form-data",
        "Content-Type: audio/wav",  // no disposition
        "Content-Disposition: form-data; Name*=UTF-8''n",
    ])
    func partWithoutAName(header: String) {
        let error = failure("multipart/form-data; boundary=b", bytes("--b\r\n\(header)\r\n\r\nv\r\n--b--\r\n"))
        #expect(error == .missingName)
        #expect(error?.message == "part 1 has no name")
    }

    /// `name=""` (the fuzzer's find): no name either.
    @Test func partWithAnEmptyName() {
        let error = failure("multipart/form-data; boundary=b", bytes("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--\r\n"))
        #expect(error == .missingName)
        #expect(error?.message == "part 1 has an empty name")
    }

    @Test func partWithoutHeaders() {
        let body = bytes("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b\r\n\r\nno headers\r\n--b--\r\n")
        let error = failure("multipart/form-data; boundary=b", body)
        #expect(error == .missingName)
        #expect(error?.message == "part 2 has no name")
    }

    @Test(arguments: [
        "Content-Disposition form-data; name=a",  // no colon
        ": form-data; name=a",  // no header name
        "Content Disposition: form-data; name=a",  // a space in the name
        "Content-Disposition: form-data; name=a\r\n folded",  // obsolete line folding
        "Content-Disposition: form-data; name=a\nX: y",  // a bare line feed
        "Content-Disposition: attachment; name=a",  // not form-data
        "Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b",  // twice
        "Content-Disposition: form-data; name=a\r\nContent-Type: a/b\r\nContent-Type: c/d",
        "Content-Disposition: form-data; name=\"a",  // unterminated quote
        "Content-Disposition: form-data; name",  // no value
        "Content-Disposition: form-data; name=a b",  // junk after a value
        "Content-Disposition: form-data; name=\"a\u{1}\"",  // a control character
    ])
    func malformedHeader(header: String) {
        let error = failure("multipart/form-data; boundary=b", bytes("--b\r\n\(header)\r\n\r\nv\r\n--b--\r\n"))
        #expect(error == .malformedHeader)
    }

    @Test func headerThatIsNotUTF8() {
        let body = bytes("--b\r\nContent-Disposition: form-data; name=\"") + [0xC3, 0x28] + bytes("\"\r\n\r\nv\r\n--b--\r\n")
        #expect(failure("multipart/form-data; boundary=b", body) == .malformedHeader)
    }

    @Test func errorsCompareByReasonAndDescribeThemselves() {
        #expect(MultipartError.missingName.detailed("part 3 has no name") == .missingName)
        #expect(MultipartError.missingName != .malformedHeader)
        #expect("\(MultipartError.missingFinalDelimiter)" == "the body ends without its final boundary")
    }
}
