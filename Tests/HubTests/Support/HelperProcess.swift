// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Runs a test helper program (a Python script in the test virtualenv) to its end.
///
/// Output goes to temporary files, not pipes, so a chatty helper can never block on a full pipe;
/// a helper still running at `timeout` is killed (SIGKILL: processes started from the test binary
/// inherit a blocked SIGTERM).
enum HelperProcess {
    struct Failed: Error, CustomStringConvertible {
        let status: Int32
        let output: String
        var description: String { "helper exited \(status): \(output)" }
    }

    /// The helper's standard output; throws ``Failed`` with both outputs when it exits non-zero.
    /// `workingDirectory` nil: the test's own.
    static func run(
        _ executable: String, _ arguments: [String], timeout: Duration = .seconds(120), workingDirectory: URL? = nil
    ) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-helper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stdout = folder.appendingPathComponent("stdout")
        let stderr = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
            let pid = process.processIdentifier
            Task {
                try? await Task.sleep(for: timeout)
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
        let output = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw Failed(status: status, output: output + ((try? String(contentsOf: stderr, encoding: .utf8)) ?? ""))
        }
        return output
    }
}
