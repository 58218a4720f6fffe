// SPDX-License-Identifier: Apache-2.0
import Foundation
import HummingbirdTesting
import NIOCore
import HTTPTypes

struct MetricNeverAppeared: Error, CustomStringConvertible {
    let needle: String
    let last: String
    var description: String { "\(needle) never appeared in /metrics; last:\n\(last)" }
}

/// Polls `/metrics` until every line in `needles` is present (bounded), and returns the text.
@discardableResult
func waitForMetrics(_ client: any TestClientProtocol, _ needles: [String], timeout: Duration = .seconds(5)) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    var text = ""
    while true {
        text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        if needles.allSatisfy(text.contains) { return text }
        guard ContinuousClock.now < deadline else { throw MetricNeverAppeared(needle: needles.first { !text.contains($0) } ?? "", last: text) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
