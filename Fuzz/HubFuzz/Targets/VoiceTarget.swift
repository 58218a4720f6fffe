// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine

extension FuzzTarget {
    /// What a voice client sends: the same bytes as a JSON text frame (``VoiceClientMessage``), a
    /// binary frame of each protocol version (``VoiceBinaryFrame``) and the body of an OTA check
    /// (``VoiceOTARequest``). A frame that decodes must decode the same after encoding.
    static let voice = FuzzTarget(name: "voice", summary: "voice door messages, binary frames v1–v3, OTA bodies") { bytes in
        let input = Array(bytes)
        if case .hello(let hello)? = try? VoiceClientMessage.decode(input), let params = hello.audioParams, params.isAcceptable {
            expect(params.channels == 1 && params.samplesPerFrame > 0, "accepted audio params \(params) make no frames")
        }
        for version in VoiceBinaryFrame.Version.allCases {
            guard let frame = try? VoiceBinaryFrame(decoding: input, version: version, maxPayload: 512) else { continue }
            expect(!frame.payload.isEmpty && frame.payload.count <= 512, "a \(frame.payload.count)-byte payload past the checks")
            // Reserved header fields are not kept, so the round trip is frame → bytes → the same frame.
            let again = try? VoiceBinaryFrame(decoding: frame.bytes(version: version), version: version, maxPayload: 512)
            expect(again == frame, "v\(version.rawValue) frame does not survive encoding")
        }
        _ = try? VoiceOTARequest.decode(input)
    }

    /// Opus packets as a device sends them: decoded or refused, never more than 120 ms of samples.
    static let opus = FuzzTarget(name: "opus", summary: "Opus packets: OpusCodec over libopus") { bytes in
        guard let codec = try? OpusCodec(sampleRate: 16_000, frameMilliseconds: 60) else { return }
        // Several packets in a row, split at 0xFC bytes, so the decoder's state carries over.
        for packet in bytes.split(separator: 0xFC, omittingEmptySubsequences: true) {
            guard let samples = try? codec.decode(packet: Array(packet)) else { continue }
            expect(samples.count <= 16_000 * 120 / 1000, "\(samples.count) samples from one packet")
        }
    }
}
