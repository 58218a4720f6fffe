// SPDX-License-Identifier: Apache-2.0
import Foundation

/// This process's open file descriptors (Linux `/proc/self/fd`); the tests run the hub in-process,
/// so its sockets are among them.
enum OpenFileDescriptors {
    /// How many descriptors are open; nil where `/proc/self/fd` cannot be read (not Linux).
    static var count: Int? {
        try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// How many descriptors are TCP sockets whose local port is `port`: a server's listening socket
    /// and the connections it accepted and has not closed yet (a connection it closed may linger in
    /// the kernel, in TIME_WAIT, but holds no descriptor). Nil where `/proc` cannot be read.
    ///
    /// Other tests running at the same time open and close descriptors of their own; counting only
    /// those of one hub's port keeps the figure theirs alone.
    static func sockets(localPort port: Int) -> Int? {
        let suffix = ":" + String(format: "%04X", port)
        var inodes = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read with FileHandle: /proc files report size 0, so whole-file readers see nothing.
            guard let handle = FileHandle(forReadingAtPath: table), let data = try? handle.readToEnd() else { continue }
            try? handle.close()
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst() {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count > 9, fields[1].hasSuffix(suffix), fields[9] != "0" { inodes.insert(String(fields[9])) }
            }
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return entries.count { entry in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                target.hasPrefix("socket:["), target.hasSuffix("]")
            else { return false }
            return inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
        }
    }
}
