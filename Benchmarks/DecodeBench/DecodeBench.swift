// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation

/// Measures the OneBot door's hot decode path two ways on the same frames, in one run: the hub's
/// `JSONValue` parser plus `OneBotEvent(json:)`, and Foundation's `JSONDecoder` into Codable types
/// of the same fields (the Codable design the hub would use: ids as numbers or strings, `message`
/// as a CQ string or segments with free-form `data`, a typed `sender`). Prints ns per frame for
/// each, alternating rounds, and the ratio of medians.
///
/// ```
/// swift run -c release DecodeBench [frames per round]
/// ```
@main
enum DecodeBench {
    static let frames: [String] = [
        #"{"time":1717000000,"self_id":3847291056,"post_type":"message","message_type":"private","sub_type":"friend","message_id":1001,"user_id":1049382716,"message":[{"type":"text","data":{"text":"bench message 42"}}],"raw_message":"bench message 42","font":0,"sender":{"user_id":1049382716,"nickname":"user1049382716","sex":"unknown","age":0}}"#,
        #"{"time":1717000001,"self_id":3847291056,"post_type":"message","message_type":"group","sub_type":"normal","message_id":"-2000000001","group_id":736251904,"user_id":"1049382716","anonymous":null,"message":[{"type":"reply","data":{"id":"-2000000000"}},{"type":"at","data":{"qq":3847291056}},{"type":"text","data":{"text":" what is the weather today?"}}],"raw_message":"[CQ:reply,id=-2000000000][CQ:at,qq=3847291056] what is the weather today?","font":0,"sender":{"user_id":1049382716,"nickname":"Bob","card":"Bobby","role":"member","level":"12","title":""}}"#,
        #"{"time":1717000002,"self_id":3847291056,"post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":5000}"#,
    ]

    static func main() {
        let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200_000
        let bytes = frames.map { Array($0.utf8) }
        var hub = [Double]()
        var codable = [Double]()
        var sink = 0
        let decoder = JSONDecoder()  // one, reused, as a door would
        let datas = bytes.map { Data($0) }
        for _ in 0..<7 {
            hub.append(time(count) { index in
                let value = try? JSONValue(parsing: bytes[index % bytes.count])
                if let value, let event = try? OneBotEvent(json: value) { sink &+= event.message.count &+ Int(event.userID ?? 0 & 1) }
            })
            codable.append(time(count) { index in
                if let event = try? decoder.decode(CodableEvent.self, from: datas[index % datas.count]) {
                    sink &+= event.segmentCount &+ Int(event.userID ?? 0 & 1)
                }
            })
        }
        let hubMedian = hub.sorted()[hub.count / 2]
        let codableMedian = codable.sorted()[codable.count / 2]
        print("frames per round: \(count) (3 kinds, alternating); 7 rounds each")
        print(String(format: "hub JSONValue parser + OneBotEvent(json:): median %.0f ns/frame", hubMedian))
        print(String(format: "JSONDecoder + Codable event:              median %.0f ns/frame", codableMedian))
        print(String(format: "Codable / hub: %.2f×   (checksum %d)", codableMedian / hubMedian, sink & 1))
    }

    /// ns per call of `body` over `count` calls.
    static func time(_ count: Int, _ body: (Int) -> Void) -> Double {
        let start = ContinuousClock.now
        for index in 0..<count { body(index) }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1e9 / Double(count) + Double(elapsed.components.attoseconds) / 1e9 / Double(count)
    }
}

/// The Codable form of a OneBot event the comparison decodes into.
struct CodableEvent: Decodable {
    /// A number or a decimal string.
    struct FlexibleID: Decodable {
        var value: Int64?
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                value = number
            } else if let text = try? container.decode(String.self) {
                value = Int64(text)
            } else {
                value = nil
            }
        }
    }

    struct Segment: Decodable {
        var type: String
        var data: [String: JSONValue]?
    }

    /// A CQ string, a segment array or one segment.
    enum Message: Decodable {
        case text(String), segments([Segment])
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let segments = try? container.decode([Segment].self) {
                self = .segments(segments)
            } else {
                self = .segments([try container.decode(Segment.self)])
            }
        }
    }

    struct Sender: Decodable {
        var nickname: String?
        var card: String?
        var role: String?
    }

    struct Status: Decodable {
        var online: Bool?
    }

    var postType: String
    var messageType: String?
    var metaEventType: String?
    var subType: String?
    var time: FlexibleID?
    var selfID: FlexibleID?
    var userIDValue: FlexibleID?
    var groupID: FlexibleID?
    var messageID: FlexibleID?
    var message: Message?
    var sender: Sender?
    var interval: FlexibleID?
    var status: Status?

    var userID: Int64? { userIDValue?.value }
    var segmentCount: Int {
        switch message {
        case .text(let text)?: CQCode.parse(text).count
        case .segments(let segments)?: segments.count
        case nil: 0
        }
    }

    enum CodingKeys: String, CodingKey {
        case postType = "post_type"
        case messageType = "message_type"
        case metaEventType = "meta_event_type"
        case subType = "sub_type"
        case time
        case selfID = "self_id"
        case userIDValue = "user_id"
        case groupID = "group_id"
        case messageID = "message_id"
        case message, sender, interval, status
    }
}
