// SPDX-License-Identifier: Apache-2.0
import Foundation

/// One fuzz target: a parser that reads outside bytes, driven with one input at a time.
///
/// A target returns normally for every input, accepted or refused. A crash (a trap, a precondition,
/// an overflow) or a failed ``expect(_:_:)`` is a finding; libFuzzer saves the input that caused it.
struct FuzzTarget: Sendable {
    /// The name on the command line and of the corpus directory (`Fuzz/Corpus/<name>`).
    let name: String
    /// What the target feeds, for `HubFuzz list`.
    let summary: String
    /// Runs one input.
    let run: @Sendable (UnsafeRawBufferPointer) -> Void

    /// Every target, in the order `make fuzz` runs them.
    static let all: [FuzzTarget] = [
        .cqCode, .json, .oneBotEvent, .oneBotActionResponse, .webChatFrame, .openAIRequest, .serverSentEvents, .resp, .configuration, .headers, .chatText,
        .audio, .multipart, .voice, .opus,
    ]

    /// The target named `name`, if there is one.
    static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }

    /// The environment variable that names the target of this process. `main` sets it, so that the
    /// processes libFuzzer starts itself (`-fork`, `-merge`) run the same target.
    static let environmentKey = "HUB_FUZZ_TARGET"

    /// The target of this process, read once from ``environmentKey``.
    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment[environmentKey] ?? ""
        guard let target = named(name) else { fatalError("\(environmentKey)=\(name) names no fuzz target") }
        return target
    }()
}

/// Stops the process when a property a target checks does not hold, so libFuzzer reports the input.
func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("fuzz property failed: \(message())", file: file, line: line) }
}
