// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The kernel's view of IPv4 TCP sockets (Linux `/proc/net/tcp`), to tell whether a process still
/// holds a connection's socket or has closed it (an orphan the kernel finishes alone has inode 0).
enum LoopbackSockets {
    /// Whether the socket with local port `local` connected to remote port `remote` is still held
    /// open by a process; nil where `/proc/net/tcp` cannot be read (not Linux).
    static func isHeld(localPort local: Int, remotePort remote: Int) -> Bool? {
        // Read with FileHandle: /proc files report size 0, so whole-file readers see nothing.
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp"), let data = try? handle.readToEnd() else { return nil }
        try? handle.close()
        let localSuffix = ":" + hex(local)
        let remoteSuffix = ":" + hex(remote)
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[1].hasSuffix(localSuffix), fields[2].hasSuffix(remoteSuffix) else { continue }
            return fields[9] != "0"
        }
        return false
    }

    private static func hex(_ port: Int) -> String {
        let digits = String(port, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
