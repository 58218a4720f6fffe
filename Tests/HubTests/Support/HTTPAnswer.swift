// SPDX-License-Identifier: Apache-2.0
import Foundation

/// An HTTP/1.1 response as read off a raw socket: status, headers and body, and the hub's JSON
/// error in the body when it has one.
struct HTTPAnswer: Sendable, CustomStringConvertible {
    struct Unparsable: Error, CustomStringConvertible {
        let text: String
        var description: String { "not an HTTP response: \(text.prefix(200).debugDescription)" }
    }

    /// `{"error":{"message": …}}`, the body of every error the hub answers.
    struct ErrorBody: Codable, Sendable {
        struct Detail: Codable, Sendable {
            let message: String
        }
        let error: Detail
    }

    let status: Int
    /// Header names lower-cased, in order.
    let headers: [(name: String, value: String)]
    let body: String

    init(parsing text: String) throws {
        guard let split = text.range(of: "\r\n\r\n") else { throw Unparsable(text: text) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else { throw Unparsable(text: text) }
        self.status = status
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = String(text[split.upperBound...])
    }

    /// The complete responses at the start of `text` (a connection's bytes), in order: each ends
    /// where its `Content-Length` says.
    static func complete(in text: String) -> [HTTPAnswer] {
        var answers: [HTTPAnswer] = []
        var rest = Substring(text)
        while let split = rest.range(of: "\r\n\r\n"),
            let head = try? HTTPAnswer(parsing: String(rest[..<split.upperBound])),
            let length = head.header("content-length").flatMap(Int.init)
        {
            let body = rest.utf8[split.upperBound...]
            guard body.count >= length else { break }
            let end = rest.utf8.index(split.upperBound, offsetBy: length)
            guard let answer = try? HTTPAnswer(parsing: String(rest[..<end])) else { break }
            answers.append(answer)
            rest = rest[end...]
        }
        return answers
    }

    /// The first value of header `name`.
    func header(_ name: String) -> String? {
        headers.first { $0.name == name.lowercased() }?.value
    }

    /// The hub's JSON error, if the body is one.
    var error: ErrorBody.Detail? {
        guard header("content-type")?.hasPrefix("application/json") == true else { return nil }
        return try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)).error
    }

    /// Whether this is an error the server answered and then closed: `Connection: close`, a
    /// `Content-Length` that matches the body, and the hub's JSON error in it.
    var isClosingJSONError: Bool {
        header("connection")?.lowercased() == "close" && header("content-length") == String(body.utf8.count) && error != nil
    }

    var description: String { "\(status) \(body.prefix(200))" }
}
