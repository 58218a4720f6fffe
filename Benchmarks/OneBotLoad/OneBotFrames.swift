// SPDX-License-Identifier: Apache-2.0

/// Hand-built OneBot 11 frames (§2.1, §3.2, §3.5).
///
/// String interpolation instead of an encoder keeps the load generator's cost per event far
/// below the hub's. Every value interpolated here is a number or a fixed ASCII word, so no
/// JSON escaping is needed.
enum OneBotFrames {
    /// A private message event in array format from `userID` to the bot `selfID` (§3.2).
    static func privateMessage(time: Int, selfID: Int64, messageID: Int32, userID: Int64, sequence: Int) -> String {
        #"""
        {"time":\#(time),"self_id":\#(selfID),"post_type":"message","message_type":"private","sub_type":"friend",\#
        "message_id":\#(messageID),"user_id":\#(userID),\#
        "message":[{"type":"text","data":{"text":"bench message \#(sequence)"}}],"raw_message":"bench message \#(sequence)",\#
        "font":0,"sender":{"user_id":\#(userID),"nickname":"user\#(userID)","sex":"unknown","age":0}}
        """#
    }

    /// The `lifecycle.connect` meta event an implementation sends first on a connection (§3.5).
    static func lifecycleConnect(time: Int, selfID: Int64) -> String {
        #"{"time":\#(time),"self_id":\#(selfID),"post_type":"meta_event","meta_event_type":"lifecycle","sub_type":"connect"}"#
    }

    /// A heartbeat meta event announcing the next one in `intervalMilliseconds` (§3.5).
    static func heartbeat(time: Int, selfID: Int64, intervalMilliseconds: Int) -> String {
        #"""
        {"time":\#(time),"self_id":\#(selfID),"post_type":"meta_event","meta_event_type":"heartbeat",\#
        "status":{"online":true,"good":true},"interval":\#(intervalMilliseconds)}
        """#
    }

    /// A plausible successful response to `request` (§2.1), echoing its `echo` verbatim.
    ///
    /// - Parameters:
    ///   - selfID: the simulated bot's QQ number, for `get_login_info`.
    ///   - messageID: the id to report for a sent message.
    static func response(to request: ActionRequest, selfID: Int64, messageID: Int32) -> String {
        let echo = request.echo.map { #","echo":\#($0)"# } ?? ""
        if request.isAsync {
            return #"{"status":"async","retcode":1,"data":null,"message":"","wording":""\#(echo)}"#
        }
        let data: String
        switch request.name {
        case "send_private_msg", "send_msg", "send_group_msg", "send_forward_msg",
             "send_private_forward_msg", "send_group_forward_msg":
            data = #"{"message_id":\#(messageID)}"#
        case "get_login_info":
            data = #"{"user_id":\#(selfID),"nickname":"bench-bot-\#(selfID)"}"#
        case "get_version_info":
            data = #"{"app_name":"OneBotLoad","app_version":"1.0.0","protocol_version":"v11"}"#
        case "get_status":
            data = #"{"online":true,"good":true}"#
        case "can_send_image", "can_send_record":
            data = #"{"yes":true}"#
        case "get_friend_list", "get_group_list", "get_unidirectional_friend_list":
            data = "[]"
        case "get_stranger_info":
            let userID = request.userID ?? 0
            data = #"{"user_id":\#(userID),"nickname":"user\#(userID)","sex":"unknown","age":0}"#
        default:
            data = "null"
        }
        return #"{"status":"ok","retcode":0,"data":\#(data),"message":"","wording":""\#(echo)}"#
    }
}
