// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub

/// The xiaozhi OTA check, `/xiaozhi/ota/`, over real sockets.
@Suite(.timeLimit(.minutes(1)))
struct VoiceOTATests {
    static let deviceID = "aa:bb:cc:dd:ee:ff"
    static let clientID = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"

    /// A device's body as the firmware builds it (notes §6.1).
    static let deviceBody = """
        {"version":2,"language":"zh-CN","flash_size":16777216,"minimum_free_heap_size":"8325760",\
        "mac_address":"aa:bb:cc:dd:ee:ff","uuid":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","chip_model_name":"esp32s3",\
        "chip_info":{"model":9,"cores":2,"revision":2,"features":18},\
        "application":{"name":"xiaozhi","version":"1.6.2","compile_time":"2025-05-01T12:00:00Z","idf_version":"v5.4","elf_sha256":"ab12"},\
        "partition_table":[{"label":"nvs","type":1,"subtype":2,"address":36864,"size":16384},{"label":"ota_0","type":0,"subtype":16,"address":1048576,"size":6291456}],\
        "ota":{"label":"ota_0"},"display":{"monochrome":false,"width":240,"height":240},\
        "board":{"type":"bread-compact-wifi","name":"bread-compact-wifi","ssid":"home","rssi":-51,"channel":6,"ip":"192.168.1.50","mac":"aa:bb:cc:dd:ee:ff"}}
        """

    /// The headers a device sends with its check (notes §6.1), plus `extra`.
    static func deviceHeaders(_ extra: [(String, String)] = [], deviceID: String? = Self.deviceID, clientID: String? = Self.clientID) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json", .userAgent: "bread-compact-wifi/1.6.2", .acceptLanguage: "zh-CN"]
        fields.append(HTTPField(name: HTTPField.Name("Activation-Version")!, value: "1"))
        if let deviceID { fields.append(HTTPField(name: HTTPField.Name("Device-Id")!, value: deviceID)) }
        if let clientID { fields.append(HTTPField(name: HTTPField.Name("Client-Id")!, value: clientID)) }
        for (name, value) in extra { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    static func configuration(voice: String = "") throws -> HubConfiguration {
        try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: voice.isEmpty ? "" : "voice:\n\(voice)")
    }

    /// Posts a check and returns the status and the body as JSON.
    static func check(
        _ client: any TestClientProtocol, uri: String = "/xiaozhi/ota/", method: HTTPRequest.Method = .post, headers: HTTPFields = deviceHeaders(),
        body: String? = deviceBody
    ) async throws -> (status: HTTPResponse.Status, json: JSONValue, contentType: String?) {
        try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
            return (response.status, json, response.headers[.contentType])
        }
    }

    @Test func aDeviceIsToldWhereTheWebSocketIs() async throws {
        try await TestHub.run(try Self.configuration()) { _, client in
            let before = Date().timeIntervalSince1970 * 1000
            let (status, json, contentType) = try await Self.check(client)
            let after = Date().timeIntervalSince1970 * 1000
            #expect(status == .ok)
            #expect(contentType?.hasPrefix("application/json") == true)
            #expect(json["firmware"] == ["version": "1.6.2", "url": ""])
            #expect(json["websocket"] == ["url": "ws://localhost/xiaozhi/v1/", "token": "", "version": 1])
            #expect(json["mqtt"] == nil)
            #expect(json["activation"] == nil)
            let timestamp = try #require(json["server_time"]?["timestamp"]?.int64Value)
            #expect(Double(timestamp) >= before.rounded(.down) && Double(timestamp) <= after)
            #expect(json["server_time"]?["timezone_offset"]?.int64Value == Int64(TimeZone.current.secondsFromGMT() / 60))
            #expect(json.objectValue?.keys.sorted() == ["firmware", "server_time", "websocket"])
        }
    }

    @Test func withAndWithoutTheTrailingSlashAndByGet() async throws {
        try await TestHub.run(try Self.configuration()) { _, client in
            let bare = try await Self.check(client, uri: "/xiaozhi/ota")
            #expect(bare.status == .ok)
            #expect(bare.json["firmware"]?["version"] == "1.6.2")
            for uri in ["/xiaozhi/ota/", "/xiaozhi/ota"] {
                let get = try await Self.check(client, uri: uri, method: .get, headers: [:], body: nil)
                #expect(get.status == .ok)
                #expect(get.json["firmware"] == ["version": "0.0.0", "url": ""])
                #expect(get.json["websocket"]?["url"] == "ws://localhost/xiaozhi/v1/")
                #expect(get.json["server_time"]?["timestamp"]?.int64Value != nil)
            }
        }
    }

    @Test func behindAProxyTheURLIsTheOneClientsReach() async throws {
        try await TestHub.run(try Self.configuration()) { _, client in
            let headers = Self.deviceHeaders([("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "voice.example.com, proxy.internal")])
            let (status, json, _) = try await Self.check(client, headers: headers)
            #expect(status == .ok)
            #expect(json["websocket"]?["url"] == "wss://voice.example.com/xiaozhi/v1/")
            let plain = try await Self.check(client, headers: Self.deviceHeaders([("X-Forwarded-Host", "hub.lan:8080")]))
            #expect(plain.json["websocket"]?["url"] == "ws://hub.lan:8080/xiaozhi/v1/")
        }
    }

    @Test func theConfiguredURLTokenAndVersionWin() async throws {
        let voice = """
              public_url: wss://hub.example.com/xiaozhi/v1/
              access_token: dev1ce-t0ken
              protocol_version: 2
            """
        try await TestHub.run(try Self.configuration(voice: voice)) { _, client in
            let headers = Self.deviceHeaders([("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "elsewhere.example.com")])
            let (status, json, _) = try await Self.check(client, headers: headers)
            #expect(status == .ok)
            #expect(json["websocket"] == ["url": "wss://hub.example.com/xiaozhi/v1/", "token": "dev1ce-t0ken", "version": 2])
        }
    }

    @Test func versionOneIsNamedSoADeviceGivenAnotherBeforeGoesBack() async throws {
        try await TestHub.run(try Self.configuration(voice: "  protocol_version: 1\n  access_token: tok")) { _, client in
            let (_, json, _) = try await Self.check(client)
            #expect(json["websocket"] == ["url": "ws://localhost/xiaozhi/v1/", "token": "tok", "version": 1])
        }
    }

    @Test func theAllowListRefusesOtherDevices() async throws {
        try await TestHub.run(try Self.configuration(voice: "  allowed_devices: [ \"AA:BB:CC:DD:EE:FF\" ]")) { _, client in
            #expect(try await Self.check(client).status == .ok)  // the list's case does not matter
            let other = try await Self.check(client, headers: Self.deviceHeaders(deviceID: "11:22:33:44:55:66"))
            #expect(other.status == .forbidden)
            #expect(other.json["error"]?["message"]?.stringValue?.contains("allowed_devices") == true)
            #expect(other.json["websocket"] == nil)
            // Without a Device-Id, a GET is not a way around the list.
            #expect(try await Self.check(client, method: .get, headers: [:], body: nil).status == .forbidden)
            let listed = try await Self.check(client, method: .get, headers: Self.deviceHeaders(clientID: nil), body: nil)
            #expect(listed.status == .ok)
        }
    }

    @Test func aPostWithoutTheDeviceHeadersIsRefused() async throws {
        try await TestHub.run(try Self.configuration()) { _, client in
            for headers in [Self.deviceHeaders(deviceID: nil), Self.deviceHeaders(clientID: nil), Self.deviceHeaders(deviceID: " ", clientID: nil)] {
                let (status, json, _) = try await Self.check(client, headers: headers)
                #expect(status == .badRequest)
                #expect(json["error"]?["message"] == "the Device-Id and Client-Id headers are required")
            }
            let long = try await Self.check(client, headers: Self.deviceHeaders(clientID: String(repeating: "c", count: 129)))
            #expect(long.status == .badRequest)
        }
    }

    @Test func malformedAndOversizedBodiesAreRefused() async throws {
        try await TestHub.run(try Self.configuration()) { _, client in
            for body in ["{\"application\":", "not json", "[1,2]", "\"text\""] {
                let (status, json, _) = try await Self.check(client, body: body)
                #expect(status == .badRequest, "\(body)")
                #expect(json["error"]?["message"]?.stringValue?.contains("JSON object") == true)
            }
            let padding = String(repeating: "x", count: 70_000)
            let (status, json, _) = try await Self.check(client, body: #"{"application":{"version":"1.0"},"padding":"\#(padding)"}"#)
            #expect(status == .contentTooLarge)
            #expect(json["error"]?["message"] != nil)
            // An empty body is a device that said nothing about itself.
            let empty = try await Self.check(client, body: "")
            #expect(empty.status == .ok)
            #expect(empty.json["firmware"]?["version"] == "0.0.0")
        }
    }

    /// Sends `request` on a connection of its own and returns the first answer.
    static func rawAnswer(port: Int, _ request: String) async throws -> HTTPAnswer {
        let connection = try await RawConnection.open(port: port)
        defer { connection.close() }
        await connection.send(request)
        return try #require(try await connection.waitForAnswers(1).first)
    }

    @Test func anHTTP10RequestWithoutAHostNeedsThePublicURL() async throws {
        let request = "GET /xiaozhi/ota/ HTTP/1.0\r\nDevice-Id: aa:bb:cc:dd:ee:ff\r\n\r\n"
        try await TestHub.run(try Self.configuration()) { port, _ in
            let answer = try await Self.rawAnswer(port: port, request)
            #expect(answer.status == 400)
            #expect(answer.error?.message.contains("public_url") == true)
        }
        try await TestHub.run(try Self.configuration(voice: "  public_url: ws://10.0.0.2:8080/xiaozhi/v1/")) { port, _ in
            let answer = try await Self.rawAnswer(port: port, request)
            #expect(answer.status == 200)
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(answer.body.utf8))
            #expect(json["websocket"]?["url"] == "ws://10.0.0.2:8080/xiaozhi/v1/")
        }
    }
}
