// SPDX-License-Identifier: Apache-2.0

/// Waits (bounded) until `condition` holds, asking it every `interval` (longer for a condition
/// that is itself a request to the hub).
func eventually(
    _ what: String, timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(5), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw Unmet(what: what) }
        try await Task.sleep(for: interval)
    }
}

/// A condition that did not come true in time.
struct Unmet: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
