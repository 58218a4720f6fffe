// SPDX-License-Identifier: Apache-2.0
import Foundation

/// `HubFuzz <target> [libFuzzer flags] [corpus directories or files]`, `HubFuzz list`.
///
/// Built with `-Xswiftc -sanitize=fuzzer -Xswiftc -DHUB_FUZZING` (scripts/fuzz.sh), the arguments
/// after the target go to libFuzzer. In a plain build it replays the given files and directories once each,
/// which reproduces a saved crash without the fuzzing runtime.
@main
enum HubFuzz {
    static func main() {
        var arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == "list" {
            for target in FuzzTarget.all { print(target.name.padding(toLength: 24, withPad: " ", startingAt: 0), target.summary) }
            exit(0)
        }
        if arguments.count > 1, let target = FuzzTarget.named(arguments[1]) {
            setenv(FuzzTarget.environmentKey, target.name, 1)
            arguments.remove(at: 1)
        } else if ProcessInfo.processInfo.environment[FuzzTarget.environmentKey] == nil {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: HubFuzz <target> [options] [corpus...]  (targets: \(names)); HubFuzz list\n".utf8))
            exit(2)
        }
        #if HUB_FUZZING
        exit(LibFuzzer.run(arguments: arguments))
        #else
        exit(Replay.run(FuzzTarget.current, paths: arguments.dropFirst().filter { !$0.hasPrefix("-") }))
        #endif
    }
}
