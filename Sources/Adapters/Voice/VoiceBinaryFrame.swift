// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// One binary WebSocket message of a voice session: one audio frame (an Opus packet, or PCM16 from
/// the browser microphone), framed by the binary protocol version the client announced.
///
/// | version | layout (all integers big-endian) |
/// | --- | --- |
/// | 1 | the payload, nothing else |
/// | 2 | `u16 version (2)`, `u16 type`, `u32 reserved`, `u32 timestamp` (ms), `u32 payload_size`, payload (16-byte header) |
/// | 3 | `u8 type`, `u8 reserved`, `u16 payload_size`, payload (4-byte header) |
///
/// Decoding is strict where the devices are exact: `payload_size` must equal the bytes that follow
/// the header (fewer is ``Malformed/Kind/truncated``, more is ``Malformed/Kind/trailingBytes``: one
/// message carries one packet, so either means a confused peer). A v2 header's `version` and every
/// `type` and `reserved` field are not checked (devices ignore them too); `type` is kept.
///
/// ```swift
/// for try await case .binary(let buffer) in inbound.messages(maxSize: 1 << 14) {
///     let frame = try VoiceBinaryFrame(decoding: buffer, version: .v3)
///     let pcm = try opus.decode(packet: frame.payload)
/// }
/// try await outbound.write(.binary(VoiceBinaryFrame(payload: packet).encoded(version: .v2)))
/// ```
public struct VoiceBinaryFrame: Sendable, Hashable {
    /// The binary protocol version: how frames are framed, in both directions, for one session.
    public enum Version: Int, Sendable, Hashable, CaseIterable {
        /// The bare payload.
        case v1 = 1
        /// A 16-byte header with a timestamp.
        case v2 = 2
        /// A 4-byte header.
        case v3 = 3

        /// Bytes before the payload.
        public var headerSize: Int {
            switch self {
            case .v1: 0
            case .v2: 16
            case .v3: 4
            }
        }

        /// The version a `Protocol-Version` header or hello `version` names: 0 or absent is 1
        /// (as on the devices); nil for any other value.
        public init?(announced value: Int?) {
            guard let value, value != 0 else {
                self = .v1
                return
            }
            self.init(rawValue: value)
        }
    }

    /// Why a binary message is not a frame.
    public struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// Shorter than the header.
            case tooShort
            /// `payload_size` is more than the bytes after the header.
            case truncated
            /// `payload_size` is less than the bytes after the header.
            case trailingBytes
            /// No payload at all.
            case emptyPayload
            /// The payload is above the limit.
            case payloadTooLarge
        }

        public let kind: Kind
        /// The message's length, in bytes.
        public let length: Int
        /// The payload size: declared in the header (``Kind/truncated``, ``Kind/trailingBytes``) or
        /// found (``Kind/payloadTooLarge``); nil otherwise.
        public let payloadSize: Int?

        public var description: String {
            switch kind {
            case .tooShort: "binary message of \(length) bytes is shorter than its header"
            case .truncated: "binary message declares a \(payloadSize ?? 0)-byte payload but carries less (\(length) bytes in all)"
            case .trailingBytes: "binary message declares a \(payloadSize ?? 0)-byte payload but carries more (\(length) bytes in all)"
            case .emptyPayload: "binary message has no audio"
            case .payloadTooLarge: "audio frame of \(payloadSize ?? 0) bytes is larger than allowed"
            }
        }
    }

    /// Largest Opus packet accepted by default: a 60 ms packet is at most a few hundred bytes at
    /// voice bitrates; 4,000 leaves room for any encoder setting.
    public static let maxOpusPayload = 4_000
    /// Largest PCM16 frame accepted by default: 60 ms of 16 kHz mono is 1,920 bytes.
    public static let maxPCM16Payload = 8 << 10

    /// The audio: an Opus packet or PCM16 samples.
    public var payload: [UInt8]
    /// v2 only: milliseconds, the playback timestamp a device with server-side echo cancellation
    /// echoes back; 0 otherwise.
    public var timestamp: UInt32
    /// The header's `type` (0: audio); 0 for v1.
    public var type: UInt16

    public init(payload: [UInt8], timestamp: UInt32 = 0, type: UInt16 = 0) {
        self.payload = payload
        self.timestamp = timestamp
        self.type = type
    }

    // MARK: Decoding

    /// Reads an inbound binary message framed as `version`, refusing payloads above `maxPayload`
    /// bytes (``maxOpusPayload``, or ``maxPCM16Payload`` for a PCM16 stream).
    public init(decoding buffer: ByteBuffer, version: Version, maxPayload: Int = Self.maxOpusPayload) throws(Malformed) {
        let length = buffer.readableBytes
        func failure(_ kind: Malformed.Kind, payloadSize: Int? = nil) -> Malformed {
            Malformed(kind: kind, length: length, payloadSize: payloadSize)
        }
        guard length >= version.headerSize else { throw failure(.tooShort) }
        let start = buffer.readerIndex
        var declared: Int?
        switch version {
        case .v1:
            timestamp = 0
            type = 0
        case .v2:
            type = buffer.getInteger(at: start + 2, as: UInt16.self)!
            timestamp = buffer.getInteger(at: start + 8, as: UInt32.self)!
            declared = Int(buffer.getInteger(at: start + 12, as: UInt32.self)!)
        case .v3:
            type = UInt16(buffer.getInteger(at: start, as: UInt8.self)!)
            timestamp = 0
            declared = Int(buffer.getInteger(at: start + 2, as: UInt16.self)!)
        }
        let available = length - version.headerSize
        if let declared {
            guard declared <= available else { throw failure(.truncated, payloadSize: declared) }
            guard declared == available else { throw failure(.trailingBytes, payloadSize: declared) }
        }
        guard available > 0 else { throw failure(.emptyPayload) }
        guard available <= maxPayload else { throw failure(.payloadTooLarge, payloadSize: available) }
        payload = buffer.getBytes(at: start + version.headerSize, length: available)!
    }

    /// Reads an inbound binary message given as bytes.
    public init(decoding bytes: [UInt8], version: Version, maxPayload: Int = Self.maxOpusPayload) throws(Malformed) {
        try self.init(decoding: ByteBuffer(bytes: bytes), version: version, maxPayload: maxPayload)
    }

    // MARK: Encoding

    /// The frame as an outbound binary message framed as `version` (v2 carries ``timestamp``).
    /// The payload must fit its header's size field: at most 65,535 bytes for v3.
    public func encoded(version: Version) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(version.headerSize + payload.count)
        switch version {
        case .v1:
            break
        case .v2:
            buffer.writeInteger(UInt16(2))
            buffer.writeInteger(type)
            buffer.writeInteger(UInt32(0))
            buffer.writeInteger(timestamp)
            buffer.writeInteger(UInt32(payload.count))
        case .v3:
            precondition(payload.count <= Int(UInt16.max), "a v3 frame carries at most 65,535 bytes")
            buffer.writeInteger(UInt8(truncatingIfNeeded: type))
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(payload.count))
        }
        buffer.writeBytes(payload)
        return buffer
    }

    /// The outbound message as bytes.
    public func bytes(version: Version) -> [UInt8] {
        let buffer = encoded(version: version)
        return buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
}
