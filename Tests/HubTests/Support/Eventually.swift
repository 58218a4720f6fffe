// SPDX-License-Identifier: Apache-2.0

/// Waits (bounded) until `condition` holds.
func eventually(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw Unmet(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A condition that did not come true in time.
struct Unmet: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
