// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine

extension FuzzTarget {
    /// A bot's answer to an action, over WebSocket or from the HTTP API: JSON, then the response
    /// and everything the door reads from it.
    static let oneBotActionResponse = FuzzTarget(
        name: "onebot-action-response", summary: "OneBot 11 action responses: OneBotActionResponse"
    ) { bytes in
        guard let value = try? JSONValue(parsing: bytes), value["post_type"] == nil,
            let response = OneBotActionResponse(json: value)
        else { return }
        _ = response.family
        _ = response.succeeded
        _ = response.messageID
        _ = OneBotActionError(.failed, response: response).description
    }
}
