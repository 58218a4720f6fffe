// SPDX-License-Identifier: Apache-2.0
import Engine

extension FuzzTarget {
    /// Audio a user uploads or a provider returns: libsndfile through ``AudioDecoder`` (WAV, FLAC,
    /// Ogg, MP3, headers that lie). A file is refused or decoded within the limits, never more.
    static let audio = FuzzTarget(name: "audio", summary: "audio files: AudioDecoder over libsndfile, with its limits") { bytes in
        let limits = AudioLimits(maxInputBytes: 1 << 20, maxSeconds: 30, maxChannels: 2, sampleRates: 8_000...48_000)
        guard let decoded = try? AudioDecoder(limits: limits).decode(Array(bytes)) else { return }
        expect(decoded.channels >= 1 && decoded.channels <= 2, "decoded \(decoded.channels) channels past the limit")
        expect(limits.sampleRates.contains(decoded.sampleRate), "decoded a rate of \(decoded.sampleRate) Hz past the limit")
        expect(decoded.seconds <= 30.001, "decoded \(decoded.seconds) s past the limit")
        expect(decoded.samples.count % decoded.channels == 0, "a partial frame")
    }

    /// Multipart form bodies (`/v1/audio/transcriptions`): the first line is the `Content-Type`, the
    /// rest the body. Parts found must lie within the body and respect the parser's limits.
    static let multipart = FuzzTarget(name: "multipart", summary: "multipart/form-data: MultipartFormParser") { bytes in
        let input = Array(bytes)
        let newline = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.count
        let contentType = String(decoding: input[..<newline], as: UTF8.self)
        let body = newline < input.count ? Array(input[(newline + 1)...]) : []
        guard let parts = try? MultipartFormParser().parse(contentType: contentType, body: body) else { return }
        expect(parts.count <= 16, "\(parts.count) parts past the limit")
        expect(parts.reduce(0) { $0 + $1.body.count } <= body.count, "parts larger than the body")
        expect(parts.allSatisfy { !$0.name.isEmpty }, "a part without a name")
    }
}
