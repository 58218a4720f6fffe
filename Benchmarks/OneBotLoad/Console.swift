// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Unbuffered output. `print` is block-buffered when stdout is a pipe, and `run.sh` reads the
/// upstream's "listening" line through a file, so lines must leave the process at once.
enum Console {
    /// Writes `line` and a newline to standard output.
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes `line` and a newline to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
