// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Engine

@Suite struct MultipartFormWriterTests {
    @Test func bodyByteForByte() {
        var form = MultipartFormWriter(boundary: "b0und4ry")
        form.addField(name: "model", value: "whisper-1")
        form.addFile(name: "file", filename: "audio.wav", contentType: "audio/wav", bytes: [0x52, 0x0D, 0x0A, 0xFF])
        #expect(form.contentType == "multipart/form-data; boundary=b0und4ry")
        let expected =
            Array("--b0und4ry\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n".utf8)
            + Array("--b0und4ry\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n".utf8)
            + [0x52, 0x0D, 0x0A, 0xFF] + Array("\r\n--b0und4ry--\r\n".utf8)
        #expect(form.finish() == expected)
    }

    @Test func aFormWithoutPartsIsTheCloseDelimiterAlone() throws {
        let form = MultipartFormWriter(boundary: "xyz")
        let body = form.finish()
        #expect(body == Array("--xyz--\r\n".utf8))
        #expect(try MultipartFormParser().parse(contentType: form.contentType, body: body) == [])
    }

    @Test func randomBoundariesAreValidAndDiffer() throws {
        let boundaries = (0..<50).map { _ in MultipartFormWriter().boundary }
        #expect(Set(boundaries).count == boundaries.count)
        for boundary in boundaries {
            #expect(MultipartFormParser.isValidBoundary(boundary))
            #expect(boundary.utf8.count == 36)
            #expect(try MultipartFormParser.boundary(fromContentType: MultipartFormWriter(boundary: boundary).contentType) == boundary)
        }
    }

    /// Nothing in a name, file name or media type can end the header line or start another one.
    @Test func namesAreQuotedSafely() {
        var form = MultipartFormWriter(boundary: "b")
        form.addFile(
            name: "f\"ield", filename: "a\"b\\c\r\nContent-Type: text/html\u{1}\u{7F}\té.wav",
            contentType: "audio/wav\r\nX-Injected: 1", bytes: [])
        let text = String(decoding: form.finish(), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        #expect(
            lines == [
                "--b",
                #"Content-Disposition: form-data; name="f%22ield"; filename="a%22b\\c%0D%0AContent-Type: text/html%01%7F%09é.wav""#,
                "Content-Type: audio/wavX-Injected: 1",
                "", "", "--b--", "",
            ])
    }

    @Test func roundTripThroughTheParser() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        for round in 0..<40 {
            // A boundary from the seeded generator keeps every round reproducible.
            var form = MultipartFormWriter(boundary: "hub-" + String(generator.next(), radix: 16) + String(generator.next(), radix: 16))
            let boundary = Array(form.boundary.utf8)
            var expected: [MultipartPart] = []
            for index in 0..<Int.random(in: 1...16, using: &generator) {
                // Content made of pieces that look like the syntax around it.
                var body: [UInt8] = []
                for _ in 0..<Int.random(in: 0...12, using: &generator) {
                    switch Int.random(in: 0..<6, using: &generator) {
                    case 0: body += Array("\r\n".utf8)
                    case 1: body += Array("--".utf8)
                    // The boundary text, never right after CRLF--: content, not a delimiter.
                    case 2: body += [UInt8(ascii: "x")] + boundary.prefix(Int.random(in: 0...boundary.count, using: &generator))
                    case 3: body += Array("\r\n--".utf8) + boundary.prefix(boundary.count - 1)
                    case 4: body += Array("Content-Disposition: form-data; name=\"x\"\r\n\r\n".utf8)
                    default: body += (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    }
                }
                if Bool.random(using: &generator) {
                    let part = MultipartPart(name: "file\(index)", filename: "clip \(round)-\(index).wav", contentType: "audio/wav", body: body)
                    form.addFile(name: part.name, filename: part.filename!, contentType: part.contentType!, bytes: body)
                    expected.append(part)
                } else {
                    let text = String(decoding: body, as: UTF8.self)
                    form.addField(name: "field \(index)", value: text)
                    expected.append(MultipartPart(name: "field \(index)", body: Array(text.utf8)))
                }
            }
            let contentType = form.contentType
            let parts = try MultipartFormParser().parse(contentType: contentType, body: form.finish())
            #expect(parts == expected, "round \(round)")
        }
    }
}
