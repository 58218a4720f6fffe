// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The JSON body of a device's OTA check, as far as the hub reads it: a device describes itself
/// (firmware, board, chip, partitions, …) and only these fields matter. Every field is optional
/// and one of the wrong JSON type counts as absent; everything else is ignored.
///
/// ```json
/// {"version":2,"language":"zh-CN","mac_address":"aa:bb:cc:dd:ee:ff","uuid":"…","chip_model_name":"esp32s3",
///  "application":{"name":"xiaozhi","version":"1.6.2",…},"board":{"type":"bread-compact-wifi",…},…}
/// ```
public struct VoiceOTARequest: Decodable, Sendable, Hashable {
    /// The firmware, `application.version` (`"1.6.2"`).
    public var applicationVersion: String?
    /// The firmware's name, `application.name`.
    public var applicationName: String?
    /// The board, `board.type` (`"bread-compact-wifi"`).
    public var boardType: String?
    /// `mac_address`, the same as the `Device-Id` header.
    public var macAddress: String?
    /// `uuid`, the same as the `Client-Id` header.
    public var uuid: String?
    /// `chip_model_name` (`"esp32s3"`).
    public var chipModel: String?
    /// `language` (`"zh-CN"`).
    public var language: String?

    public init(
        applicationVersion: String? = nil, applicationName: String? = nil, boardType: String? = nil, macAddress: String? = nil, uuid: String? = nil,
        chipModel: String? = nil, language: String? = nil
    ) {
        self.applicationVersion = applicationVersion
        self.applicationName = applicationName
        self.boardType = boardType
        self.macAddress = macAddress
        self.uuid = uuid
        self.chipModel = chipModel
        self.language = language
    }

    /// Why a body is not an OTA request.
    public enum Malformed: Error, Sendable, Hashable {
        /// Not JSON.
        case notJSON
        /// JSON, but not an object.
        case notAnObject
    }

    /// Reads a body; an empty one (no body at all) is an empty request.
    public static func decode(_ bytes: some Collection<UInt8>) throws(Malformed) -> VoiceOTARequest {
        let data = Data(bytes)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return VoiceOTARequest() }
        do {
            return try JSONDecoder().decode(VoiceOTARequest.self, from: data)
        } catch let malformed as Malformed {
            throw malformed
        } catch {
            throw .notJSON
        }
    }

    private enum Keys: String, CodingKey {
        case application, board, uuid, language
        case macAddress = "mac_address"
        case chipModel = "chip_model_name"
    }

    private enum ApplicationKeys: String, CodingKey {
        case name, version
    }

    private enum BoardKeys: String, CodingKey {
        case type
    }

    public init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<Keys>
        do {
            container = try decoder.container(keyedBy: Keys.self)
        } catch {
            throw Malformed.notAnObject
        }
        let application = try? container.nestedContainer(keyedBy: ApplicationKeys.self, forKey: .application)
        applicationVersion = application.flatMap { try? $0.decodeIfPresent(String.self, forKey: .version) }
        applicationName = application.flatMap { try? $0.decodeIfPresent(String.self, forKey: .name) }
        let board = try? container.nestedContainer(keyedBy: BoardKeys.self, forKey: .board)
        boardType = board.flatMap { try? $0.decodeIfPresent(String.self, forKey: .type) }
        macAddress = try? container.decodeIfPresent(String.self, forKey: .macAddress)
        uuid = try? container.decodeIfPresent(String.self, forKey: .uuid)
        chipModel = try? container.decodeIfPresent(String.self, forKey: .chipModel)
        language = try? container.decodeIfPresent(String.self, forKey: .language)
    }
}
