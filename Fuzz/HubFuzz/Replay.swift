// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Runs saved inputs through a target once each: HubFuzz without the libFuzzer runtime.
enum Replay {
    /// Runs every file named in `paths` (directories: every regular file in them, recursively).
    /// Returns the exit status: 0, or 1 when a path cannot be read.
    static func run(_ target: FuzzTarget, paths: [String]) -> CInt {
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    return 1
                }
                data.withUnsafeBytes { target.run($0) }
                count += 1
            }
        }
        print("\(target.name): \(count) inputs replayed, no crash")
        return 0
    }

    /// `path` if it is a file; the regular files under it, sorted, if it is a directory.
    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let root = URL(fileURLWithPath: path)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        var files = [String]()
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url.path) }
        }
        return files.sorted()
    }
}
