// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization

extension OneBotConnection {
    /// When the last frame (event, heartbeat or action response) arrived on the connection.
    public var lastFrameDate: Date {
        let silence = OneBotDoor.uptimeNanoseconds() - lastFrameAt.load(ordering: .relaxed)
        return Date(timeIntervalSinceNow: -Double(max(0, silence)) / 1e9)
    }

    /// The heartbeat interval the bot reports on this connection (bounded), nil before its first heartbeat.
    public var heartbeatIntervalMilliseconds: Int64? {
        let interval = heartbeatInterval.load(ordering: .relaxed)
        return interval > 0 ? interval : nil
    }

    /// Actions sent on the connection and not answered yet.
    public var pendingActions: Int { pendingCount }
}
