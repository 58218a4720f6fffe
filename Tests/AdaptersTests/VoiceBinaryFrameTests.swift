// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Testing

@testable import Adapters

struct VoiceBinaryFrameTests {
    private let packet: [UInt8] = [0x58, 0x01, 0x02, 0xFF, 0x00, 0x7A]

    @Test func versionOneIsTheBarePacket() throws {
        let frame = try VoiceBinaryFrame(decoding: packet, version: .v1)
        #expect(frame == VoiceBinaryFrame(payload: packet))
        #expect(frame.bytes(version: .v1) == packet)
    }

    @Test func versionTwoHeaderIsBigEndian() throws {
        let bytes: [UInt8] = [0x00, 0x02, 0x00, 0x00, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x06] + packet
        let frame = try VoiceBinaryFrame(decoding: bytes, version: .v2)
        #expect(frame.payload == packet)
        #expect(frame.timestamp == 0x0102_0304)
        #expect(frame.type == 0)
        #expect(frame.bytes(version: .v2) == bytes)
    }

    @Test func versionThreeHeader() throws {
        let bytes: [UInt8] = [0x00, 0x00, 0x00, 0x06] + packet
        let frame = try VoiceBinaryFrame(decoding: bytes, version: .v3)
        #expect(frame == VoiceBinaryFrame(payload: packet))
        #expect(frame.bytes(version: .v3) == bytes)
    }

    @Test(arguments: VoiceBinaryFrame.Version.allCases)
    func roundTrips(version: VoiceBinaryFrame.Version) throws {
        for size in [1, 2, 255, 256, 1_920, 4_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let frame = VoiceBinaryFrame(payload: payload, timestamp: version == .v2 ? 123_456_789 : 0)
            let encoded = frame.encoded(version: version)
            #expect(encoded.readableBytes == version.headerSize + size)
            #expect(try VoiceBinaryFrame(decoding: encoded, version: version) == frame)
        }
    }

    @Test func theHeaderTypeIsKeptNotChecked() throws {
        let v2 = try VoiceBinaryFrame(decoding: [0, 9, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 0, 0, 0, 0, 1, 0x42], version: .v2)
        #expect(v2.type == 1)
        #expect(v2.payload == [0x42])
        let v3 = try VoiceBinaryFrame(decoding: [7, 9, 0, 1, 0x42], version: .v3)
        #expect(v3.type == 7)
        #expect(v3.bytes(version: .v3) == [7, 0, 0, 1, 0x42])
    }

    @Test func aBufferThatWasReadFromDecodesFromItsReaderIndex() throws {
        var buffer = ByteBuffer(bytes: [0xEE, 0xEE, 0x00, 0x00, 0x00, 0x02, 0x10, 0x20])
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(try VoiceBinaryFrame(decoding: buffer, version: .v3).payload == [0x10, 0x20])
    }

    @Test func versionsAnnounced() {
        #expect(VoiceBinaryFrame.Version(announced: nil) == .v1)
        #expect(VoiceBinaryFrame.Version(announced: 0) == .v1)
        #expect(VoiceBinaryFrame.Version(announced: 1) == .v1)
        #expect(VoiceBinaryFrame.Version(announced: 2) == .v2)
        #expect(VoiceBinaryFrame.Version(announced: 3) == .v3)
        #expect(VoiceBinaryFrame.Version(announced: 4) == nil)
        #expect(VoiceBinaryFrame.Version(announced: -1) == nil)
    }

    // MARK: Refusals

    @Test(arguments: [
        ([UInt8](), VoiceBinaryFrame.Version.v2, 0), ([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .v2, 15), ([], .v3, 0), ([0, 0, 0], .v3, 3),
    ])
    func tooShortForTheHeader(bytes: [UInt8], version: VoiceBinaryFrame.Version, length: Int) {
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .tooShort, length: length, payloadSize: nil)) {
            try VoiceBinaryFrame(decoding: bytes, version: version)
        }
    }

    @Test func payloadSizeAboveWhatFollows() {
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .truncated, length: 20, payloadSize: 5)) {
            try VoiceBinaryFrame(decoding: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4], version: .v2)
        }
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .truncated, length: 5, payloadSize: 0xFFFF)) {
            try VoiceBinaryFrame(decoding: [0, 0, 0xFF, 0xFF, 1], version: .v3)
        }
        // A size that does not fit an Int32 is still only "more than follows".
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .truncated, length: 17, payloadSize: 0xFFFF_FFFF)) {
            try VoiceBinaryFrame(decoding: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1], version: .v2)
        }
    }

    @Test func payloadSizeBelowWhatFollows() {
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .trailingBytes, length: 20, payloadSize: 3)) {
            try VoiceBinaryFrame(decoding: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4], version: .v2)
        }
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .trailingBytes, length: 6, payloadSize: 1)) {
            try VoiceBinaryFrame(decoding: [0, 0, 0, 1, 9, 9], version: .v3)
        }
    }

    @Test func emptyPayloads() {
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .emptyPayload, length: 0, payloadSize: nil)) {
            try VoiceBinaryFrame(decoding: [], version: .v1)
        }
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .emptyPayload, length: 16, payloadSize: nil)) {
            try VoiceBinaryFrame(decoding: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], version: .v2)
        }
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .emptyPayload, length: 4, payloadSize: nil)) {
            try VoiceBinaryFrame(decoding: [0, 0, 0, 0], version: .v3)
        }
    }

    @Test(arguments: VoiceBinaryFrame.Version.allCases)
    func payloadAboveTheCap(version: VoiceBinaryFrame.Version) throws {
        let atCap = VoiceBinaryFrame(payload: [UInt8](repeating: 1, count: VoiceBinaryFrame.maxOpusPayload)).bytes(version: version)
        #expect(try VoiceBinaryFrame(decoding: atCap, version: version).payload.count == VoiceBinaryFrame.maxOpusPayload)
        let above = VoiceBinaryFrame(payload: [UInt8](repeating: 1, count: VoiceBinaryFrame.maxOpusPayload + 1)).bytes(version: version)
        #expect(throws: VoiceBinaryFrame.Malformed(kind: .payloadTooLarge, length: above.count, payloadSize: VoiceBinaryFrame.maxOpusPayload + 1)) {
            try VoiceBinaryFrame(decoding: above, version: version)
        }
        // The cap is a parameter: a PCM16 stream allows 8 KiB.
        #expect(try VoiceBinaryFrame(decoding: above, version: version, maxPayload: VoiceBinaryFrame.maxPCM16Payload).payload.count == 4_001)
        let pcm = VoiceBinaryFrame(payload: [UInt8](repeating: 0, count: VoiceBinaryFrame.maxPCM16Payload + 1)).bytes(version: version)
        #expect(throws: VoiceBinaryFrame.Malformed.self) {
            try VoiceBinaryFrame(decoding: pcm, version: version, maxPayload: VoiceBinaryFrame.maxPCM16Payload)
        }
    }

    @Test func refusalsDescribeThemselves() {
        let malformed = VoiceBinaryFrame.Malformed(kind: .truncated, length: 20, payloadSize: 5)
        #expect(malformed.description.contains("5-byte"))
    }
}
