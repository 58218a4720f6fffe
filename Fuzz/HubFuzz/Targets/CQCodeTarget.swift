// SPDX-License-Identifier: Apache-2.0
import Adapters

extension FuzzTarget {
    /// CQ strings (a OneBot `message` in string form): parsing, and the documented round trip.
    static let cqCode = FuzzTarget(name: "cqcode", summary: "CQ code strings: CQCode.parse, serialize, escaping") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let segments = CQCode.parse(text)
        // Types and keys that come out of `parse` are well formed, so the round trip must hold.
        let serialized = CQCode.serialize(segments)
        expect(CQCode.parse(serialized) == CQCode.normalize(segments), "parse(serialize(m)) == normalize(m) for \(serialized.debugDescription)")
        expect(CQCode.unescape(CQCode.escapeText(text)) == text, "text escaping round trip")
        expect(CQCode.unescape(CQCode.escapeValue(text)) == text, "value escaping round trip")
    }
}
