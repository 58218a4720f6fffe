// SPDX-License-Identifier: Apache-2.0
#if HUB_FUZZING
import CLibFuzzer
import Foundation

/// libFuzzer's driver, linked by `-sanitize=fuzzer`; only in builds with `-DHUB_FUZZING`.
enum LibFuzzer {
    /// Runs libFuzzer on ``FuzzTarget/current`` with `arguments` (the program name first, then
    /// libFuzzer's flags and corpus directories); returns its exit status.
    static func run(arguments: [String]) -> CInt {
        // libFuzzer may keep pointers into argv for the whole run: the copies are never freed.
        let cArguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { cArguments[index] = strdup(argument) }
        cArguments[arguments.count] = nil
        var argc = CInt(arguments.count)
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = cArguments
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
    }
}

/// libFuzzer's callback: runs one input through ``FuzzTarget/current``.
///
/// Exported under libFuzzer's name too, because the runtime's own `main` (linked, but unused: the
/// executable's entry point is the one SwiftPM links as `main`) refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.current.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
#endif
