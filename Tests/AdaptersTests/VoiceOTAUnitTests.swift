// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Adapters

/// The pieces of the OTA check that need no server: the body, the answer and the derived URL.
/// The route itself is tested over a socket in HubTests (VoiceOTATests).
struct VoiceOTAUnitTests {
    /// A device's body, as the firmware builds it (notes §6.1).
    static let deviceBody = """
        {"version":2,"language":"zh-CN","flash_size":16777216,"minimum_free_heap_size":"8325760",\
        "mac_address":"aa:bb:cc:dd:ee:ff","uuid":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","chip_model_name":"esp32s3",\
        "chip_info":{"model":9,"cores":2,"revision":2,"features":18},\
        "application":{"name":"xiaozhi","version":"1.6.2","compile_time":"2025-05-01T12:00:00Z","idf_version":"v5.4","elf_sha256":"ab12"},\
        "partition_table":[{"label":"nvs","type":1,"subtype":2,"address":36864,"size":16384}],"ota":{"label":"ota_0"},\
        "display":{"monochrome":false,"width":240,"height":240},\
        "board":{"type":"bread-compact-wifi","name":"bread-compact-wifi","ssid":"home","rssi":-51,"channel":6,"ip":"192.168.1.50","mac":"aa:bb:cc:dd:ee:ff"}}
        """

    @Test func readsADevicesBody() throws {
        let request = try VoiceOTARequest.decode(Array(Self.deviceBody.utf8))
        #expect(
            request
                == VoiceOTARequest(
                    applicationVersion: "1.6.2", applicationName: "xiaozhi", boardType: "bread-compact-wifi", macAddress: "aa:bb:cc:dd:ee:ff",
                    uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8", chipModel: "esp32s3", language: "zh-CN"))
    }

    @Test(arguments: ["", "  \r\n", "{}", #"{"application":"1.0"}"#, #"{"application":{"version":162},"board":[],"mac_address":1}"#])
    func missingOrMistypedFieldsAreAbsent(body: String) throws {
        #expect(try VoiceOTARequest.decode(Array(body.utf8)) == VoiceOTARequest())
    }

    @Test(arguments: ["{", "nope", #"{"a":}"#, "\u{FF}"])
    func notJSON(body: String) {
        #expect(throws: VoiceOTARequest.Malformed.notJSON) { try VoiceOTARequest.decode(Array(body.utf8)) }
    }

    @Test(arguments: ["[]", #"[{"application":{"version":"1"}}]"#])
    func notAnObject(body: String) {
        #expect(throws: VoiceOTARequest.Malformed.notAnObject) { try VoiceOTARequest.decode(Array(body.utf8)) }
    }

    @Test func theAnswerOffersNoUpdateAndTheTime() throws {
        let controller = VoiceOTAController(
            settings: .init(accessToken: "tok", protocolVersion: .v1), timeZone: TimeZone(secondsFromGMT: 8 * 3600)!,
            now: { Date(timeIntervalSince1970: 1_786_000_000.123_9) })
        let answer = controller.response(url: "ws://h/xiaozhi/v1/", firmwareVersion: "1.6.2")
        #expect(
            answer
                == VoiceOTAResponse(
                    serverTime: .init(timestamp: 1_786_000_000_123, timezoneOffset: 480), firmware: .init(version: "1.6.2", url: ""),
                    websocket: .init(url: "ws://h/xiaozhi/v1/", token: "tok", version: 1)))
        let json = String(decoding: answer.json, as: UTF8.self)
        #expect(json.contains(#""url":"ws://h/xiaozhi/v1/""#))  // no escaped slashes
        #expect(json.contains(#""version":1}"#))  // a device given 2 before goes back to 1
        #expect(!json.contains("mqtt"))
        #expect(controller.response(url: "u", firmwareVersion: nil).firmware.version == "0.0.0")
        #expect(controller.response(url: "u", firmwareVersion: "").firmware.version == "0.0.0")
    }

    @Test func westOfUTCIsNegativeAndVersionTwoIsNamed() throws {
        let controller = VoiceOTAController(
            settings: .init(protocolVersion: .v2), timeZone: TimeZone(secondsFromGMT: -(3 * 3600 + 1800))!, now: { Date(timeIntervalSince1970: 0) })
        let answer = controller.response(url: "u", firmwareVersion: nil)
        #expect(answer.serverTime == .init(timestamp: 0, timezoneOffset: -210))
        #expect(answer.websocket == .init(url: "u", token: "", version: 2))
        #expect(String(decoding: answer.json, as: UTF8.self).contains(#""version":2"#))
    }

    @Test(arguments: [
        (nil, nil, "hub.local:8080", "ws://hub.local:8080/xiaozhi/v1/"),
        ("https", "voice.example.com", "127.0.0.1:8080", "wss://voice.example.com/xiaozhi/v1/"),
        ("HTTPS", nil, "hub.example.com", "wss://hub.example.com/xiaozhi/v1/"),
        ("https, http", "a.example.com, b.internal", "x", "wss://a.example.com/xiaozhi/v1/"),
        ("http", "a.example.com:8443", "x", "ws://a.example.com:8443/xiaozhi/v1/"),
        ("wss", nil, "[::1]:8080", "wss://[::1]:8080/xiaozhi/v1/"),
        ("", " ", "h", "ws://h/xiaozhi/v1/"),
    ] as [(String?, String?, String?, String)])
    func derivesTheURL(proto: String?, forwardedHost: String?, host: String?, expected: String) {
        #expect(VoiceOTAController.derivedURL(forwardedProto: proto, forwardedHost: forwardedHost, host: host) == expected)
    }

    @Test(arguments: [
        (nil, nil), (nil, ""), ("evil.example.com/path", "h"), ("a b", "h"), ("user@host", "h"), (nil, "h\"ost"),
    ] as [(String?, String?)])
    func refusesUnusableHosts(forwardedHost: String?, host: String?) {
        #expect(VoiceOTAController.derivedURL(forwardedProto: nil, forwardedHost: forwardedHost, host: host) == nil)
    }

    @Test func logsOnlyPrintableText() {
        #expect(VoiceOTAController.printable("aa:bb\r\nx\u{7F}") == "aa:bb?x?")
        #expect(VoiceOTAController.printable(String(repeating: "a", count: 500)).count == 64)
    }
}
