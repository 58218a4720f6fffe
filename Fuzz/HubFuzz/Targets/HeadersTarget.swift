// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import HTTPTypes

extension FuzzTarget {
    /// The header values and query a client or an upstream controls: a OneBot reverse-WebSocket
    /// handshake (`X-Self-ID`, `X-Client-Role`, `Authorization`, `?access_token=`), the HTTP POST
    /// signature over a body, and an upstream's `Retry-After`.
    ///
    /// An input is lines: X-Self-ID, X-Client-Role, Authorization, query, X-Signature, Retry-After,
    /// then the body.
    static let headers = FuzzTarget(name: "headers", summary: "handshake headers, X-Signature, Retry-After") { bytes in
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
        lines += Array(repeating: "", count: max(0, 7 - lines.count))
        var fields = HTTPFields()
        for (name, value) in [("X-Self-ID", lines[0]), ("X-Client-Role", lines[1]), ("Authorization", lines[2])] where !value.isEmpty {
            fields.append(HTTPField(name: HTTPField.Name(name)!, value: value))
        }
        let query = lines[3].isEmpty ? nil : lines[3]
        for token in [nil, "t0k3n"] {
            for pathRole in [nil, OneBotRole.api] {
                if case .success(let accepted) = OneBotHandshake(accessToken: token).evaluate(headers: fields, query: query, pathRole: pathRole) {
                    expect(fields[HTTPField.Name("X-Self-ID")!] != nil, "accepted without X-Self-ID")
                    expect(pathRole == nil || accepted.role == pathRole, "the path's role was not kept")
                }
            }
        }
        let body = Array(lines[6].utf8)
        let verdict = AccessCredentials.checkSignature(lines[4].isEmpty ? nil : lines[4], body: body, secret: "s3cret")
        expect(verdict != .ok || lines[4].lowercased().contains(AccessCredentials.signature(body: body, secret: "s3cret").dropFirst(5)),
            "a signature other than the body's passed")
        if let seconds = RetryAfter.seconds(fromHeader: lines[5]) {
            expect(seconds.isFinite && (0...RetryAfter.limit).contains(seconds), "Retry-After outside 0...limit")
            _ = Duration.milliseconds(Int64(seconds * 1000))
        }
    }
}
