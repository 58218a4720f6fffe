// SPDX-License-Identifier: Apache-2.0

/// Why a run could not start.
enum LoadRunError: Error, CustomStringConvertible {
    case badURL(String, String)
    case connectFailed(connection: String, url: String, reason: String)
    case connectTimedOut
    case upgradeRejected
    case closedBeforeReady(String)

    var description: String {
        switch self {
        case .badURL(let url, let reason): "bad --url \(url): \(reason)"
        case .connectFailed(let connection, let url, let reason): "\(connection) could not connect to \(url): \(reason)"
        case .connectTimedOut: "timed out waiting for the connection to open"
        case .upgradeRejected: "the hub refused the WebSocket upgrade (wrong path or token? 401/403/400)"
        case .closedBeforeReady(let reason): "the connection ended before it was ready: \(reason)"
        }
    }
}
