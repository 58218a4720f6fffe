// SPDX-License-Identifier: Apache-2.0

/// Why a run could not start.
enum LoadRunError: Error, CustomStringConvertible {
    case badURL(String, String)
    case connectFailed(selfID: Int64, url: String, reason: String)
    case connectTimedOut
    case upgradeRejected

    var description: String {
        switch self {
        case .badURL(let url, let reason): "bad --url \(url): \(reason)"
        case .connectFailed(let selfID, let url, let reason): "bot \(selfID) could not connect to \(url): \(reason)"
        case .connectTimedOut: "timed out waiting for the WebSocket connections to open"
        case .upgradeRejected: "the hub refused the WebSocket upgrade (wrong path or token? 401/403/400)"
        }
    }
}
