// SPDX-License-Identifier: Apache-2.0
import NIOHTTP1

/// Where a connection's HTTP/1 exchange stands, kept by a handler below the router that may answer
/// on its own (a request it cannot parse, one that arrives too late): whether an answer written now
/// would answer the request being read, rather than land inside another response or ahead of one
/// still owed to an earlier request the client pipelined.
struct ExchangeProgress {
    /// Requests whose head was read and whose response has not ended.
    private(set) var unanswered = 0
    /// Whether a request's head was read and its end not yet.
    private(set) var readingBody = false
    /// Whether a response's head went out and its end not yet.
    private(set) var responseOpen = false

    mutating func read(_ part: HTTPServerRequestPart) {
        switch part {
        case .head:
            unanswered += 1
            readingBody = true
        case .body:
            break
        case .end:
            readingBody = false
        }
    }

    mutating func wrote(_ part: HTTPServerResponsePart) {
        switch part {
        case .head(let head) where head.status.code >= 200:
            responseOpen = true
        case .end:
            responseOpen = false
            unanswered = max(unanswered - 1, 0)
        case .head, .body:
            break
        }
    }

    /// Whether an answer may be written now for the request being read: no response is open, and
    /// none is owed to anything but that request.
    var mayAnswer: Bool {
        !responseOpen && unanswered == (readingBody ? 1 : 0)
    }
}
