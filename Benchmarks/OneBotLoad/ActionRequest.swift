// SPDX-License-Identifier: Apache-2.0

/// The few fields the load generator needs from an action frame sent by the hub (§2.1):
/// `{"action":"send_private_msg","params":{"user_id":…,"message":[…]},"echo":"…"}`.
struct ActionRequest: Sendable {
    /// Action name with any `_async` / `_rate_limited` suffix removed.
    var name: String
    /// Whether the name carried the `_async` suffix (answered with `status:"async"`).
    var isAsync: Bool
    /// The raw JSON text of `echo`, sent back verbatim; `nil` when the request had none.
    var echo: String?
    /// `params.user_id` (number or decimal string), when present.
    var userID: Int64?

    /// Whether this action delivers a chat reply that answers a simulated user's message.
    var isMessageReply: Bool {
        name == "send_private_msg" || name == "send_msg"
    }

    /// Extracts the action fields from the UTF-8 bytes of a text frame, or returns `nil` when
    /// the frame is not an action (no string `action` key): events, stray responses and garbage
    /// are ignored.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ActionRequest? {
        guard let actionRange = JSONScan.rawValue(forKey: "action", in: bytes),
              let nameRange = JSONScan.stringContents(actionRange, in: bytes)
        else { return nil }
        var name = JSONScan.string(nameRange, in: bytes)
        var isAsync = false
        if name.hasSuffix("_async") {
            name.removeLast("_async".count)
            isAsync = true
        } else if name.hasSuffix("_rate_limited") {
            name.removeLast("_rate_limited".count)
        }
        let echo = JSONScan.rawValue(forKey: "echo", in: bytes).map { JSONScan.string($0, in: bytes) }
        let userID = JSONScan.rawValue(forKey: "user_id", in: bytes).flatMap { JSONScan.int64($0, in: bytes) }
        return ActionRequest(name: name, isAsync: isAsync, echo: echo, userID: userID)
    }
}
