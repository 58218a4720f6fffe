// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs a suite only where a headless browser can be driven: `HUB_TEST_PYTHON` (the test
    /// virtualenv with selenium) and Debian's chromium-driver, which `make test` sets up.
    static var needsBrowser: Self {
        .enabled(
            if: ProcessInfo.processInfo.environment["HUB_TEST_PYTHON"] != nil && FileManager.default.fileExists(atPath: "/usr/bin/chromedriver"),
            "needs HUB_TEST_PYTHON with selenium and Debian's chromium-driver (make test sets them up)")
    }
}
