// SPDX-License-Identifier: Apache-2.0
import Engine
import Testing

@testable import Adapters

// MARK: Helpers

/// Each segment spelled out as ASCII: its type and fields (values as compact JSON), every non-ASCII
/// or control scalar written as `\u{…}`. Comparing these sees every scalar, unlike `String ==`, which
/// treats canonically equivalent strings as equal (`"é" == "e\u{301}"`).
private func exact(_ segments: [OneBotSegment]) -> [String] {
    segments.map { segment in
        let fields = segment.data.flatMap { [JSONValue.string($0.key), $0.value] }
        let json = JSONValue.array([.string(segment.type)] + fields).compactJSON
        return json.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 ? String(scalar) : "\\u{\(String(scalar.value, radix: 16))}"
        }.joined()
    }
}

/// The parse of `message`, spelled out by ``exact(_:)``.
private func parsed(_ message: String) -> [String] {
    exact(CQCode.parse(message))
}

private func segment(_ type: String, _ data: KeyValuePairs<String, JSONValue> = [:]) -> OneBotSegment {
    OneBotSegment(type: type, data: data.map { ($0.key, $0.value) })
}

// MARK: Worked examples (§4.2)

@Test func textExampleRoundTrips() {
    let text = "- [x] use &data"
    let cq = "- &#91;x&#93; use &amp;data"
    #expect(CQCode.escapeText(text) == cq)
    #expect(CQCode.serialize([.text(text)]) == cq)
    #expect(parsed(cq) == exact([.text(text)]))
}

@Test func shareExampleRoundTrips() {
    let cq = "[CQ:share,title=Wow&#44; really,url=http://example.com/?a=1&amp;b=2]"
    let share = segment("share", ["title": "Wow, really", "url": "http://example.com/?a=1&b=2"])
    #expect(parsed(cq) == exact([share]))
    #expect(CQCode.serialize([share]) == cq)
}

@Test func nodeExampleRoundTripsWithItsInnerCode() {
    let cq = "[CQ:node,user_id=10001,nickname=Alice,content=&#91;CQ:face&#44;id=123&#93;hi]"
    let node = segment("node", ["user_id": 10001, "nickname": "Alice", "content": "[CQ:face,id=123]hi"])
    #expect(CQCode.serialize([node]) == cq)
    #expect(parsed(cq) == exact(CQCode.normalize([node])))
    let content = CQCode.parse(cq).first?["content"]?.stringValue ?? ""
    #expect(parsed(content) == exact([segment("face", ["id": "123"]), .text("hi")]))
}

// MARK: Escaping and unescaping

@Test func escapingDependsOnPosition() {
    #expect(CQCode.escapeText("a,b&[c]") == "a,b&amp;&#91;c&#93;")
    #expect(CQCode.escapeValue("a,b&[c]") == "a&#44;b&amp;&#91;c&#93;")
    #expect(CQCode.escapeValue("x=y:z") == "x=y:z")
}

@Test func unescapeDecodesExactlyTheFourEntitiesInOnePass() {
    #expect(CQCode.unescape("&amp;&#91;&#93;&#44;") == "&[],")
    #expect(CQCode.unescape("&amp;#91;") == "&#91;")
    #expect(CQCode.unescape("&amp;amp;") == "&amp;")
    #expect(CQCode.unescape("&&amp;") == "&&")
    #expect(CQCode.unescape("&lt; &#65; & &amp &#9; &#091;") == "&lt; &#65; & &amp &#9; &#091;")
    #expect(CQCode.unescape("&#91;\u{301}") == "[\u{301}")
}

@Test func doubleEscapedBracketDecodesOnceInTextAndValues() {
    #expect(parsed("&amp;#91;") == exact([.text("&#91;")]))
    #expect(parsed("[CQ:x,v=&amp;#91;&amp;#44;]") == exact([segment("x", ["v": "&#91;&#44;"])]))
}

@Test func textDecodesTheCommaEntityToo() {
    #expect(parsed("a&#44;b") == exact([.text("a,b")]))
    #expect(CQCode.serialize(CQCode.parse("a&#44;b")) == "a,b")
}

// MARK: Parameters

@Test func escapedCommasStayInsideAValue() {
    let cq = #"[CQ:json,data={"a":1&#44;"b":&#91;2&#44;3&#93;}]"#
    #expect(parsed(cq) == exact([segment("json", ["data": #"{"a":1,"b":[2,3]}"#])]))
    #expect(CQCode.serialize([segment("json", ["data": ["b": [2, 3], "a": 1]])]) == cq)
}

@Test func rawCommaSplitsParameters() {
    #expect(parsed("[CQ:share,title=a,url=b]") == exact([segment("share", ["title": "a", "url": "b"])]))
    // The piece after the raw comma has no `=`, so the whole candidate is text.
    #expect(parsed("[CQ:share,title=a,b]") == exact([.text("[CQ:share,title=a,b]")]))
}

@Test func valueRunsFromTheFirstEquals() {
    #expect(parsed("[CQ:share,title=a=b]") == exact([segment("share", ["title": "a=b"])]))
    #expect(parsed("[CQ:share,title==]") == exact([segment("share", ["title": "="])]))
    #expect(CQCode.serialize([segment("share", ["title": "a=b"])]) == "[CQ:share,title=a=b]")
}

@Test func emptyValueIsKept() {
    #expect(parsed("[CQ:x,a=,b=]") == exact([segment("x", ["a": "", "b": ""])]))
}

@Test func duplicateKeysKeepTheirOrderAndTheFirstWins() {
    let cq = "[CQ:at,qq=1,name=x,qq=2]"
    let segments = CQCode.parse(cq)
    #expect(exact(segments) == exact([segment("at", ["qq": "1", "name": "x", "qq": "2"])]))
    #expect(segments.first?["qq"] == "1")
    #expect(CQCode.serialize(segments) == cq)
}

@Test func keysAreTrimmedAndValuesAreNot() {
    #expect(parsed("[CQ:face, id=178]") == exact([segment("face", ["id": "178"])]))
    #expect(parsed("[CQ:face,\t id \r\n=178]") == exact([segment("face", ["id": "178"])]))
    #expect(parsed("[CQ:face,id= 178 ]") == exact([segment("face", ["id": " 178 "])]))
    #expect(CQCode.serialize(CQCode.parse("[CQ:face, id=178]")) == "[CQ:face,id=178]")
}

@Test func typesAndKeysAreVerbatim() {
    // Only text and values are escaped; a type runs to the first `,` or `]`.
    #expect(parsed("[CQ:a=b&amp;]") == exact([segment("a=b&amp;")]))
    #expect(parsed("[CQ:a,k&#44;=1]") == exact([segment("a", ["k&#44;": "1"])]))
    #expect(parsed("[cq:face,id=1]") == exact([.text("[cq:face,id=1]")]))
}

// MARK: Unicode

@Test func emojiAndCJKPassThrough() {
    let text = "你好, 世界 👍🏽 👨‍👩‍👧 🇨🇳 [ok]"
    #expect(CQCode.serialize([.text(text)]) == "你好, 世界 👍🏽 👨‍👩‍👧 🇨🇳 &#91;ok&#93;")
    #expect(parsed(CQCode.serialize([.text(text)])) == exact([.text(text)]))
    let cq = "前[CQ:share,title=标题👍🏽,url=http://例子.中国/]后😀"
    let expected = [
        .text("前"), segment("share", ["title": "标题👍🏽", "url": "http://例子.中国/"]), .text("后😀"),
    ]
    #expect(parsed(cq) == exact(expected))
    #expect(CQCode.serialize(CQCode.parse(cq)) == cq)
}

@Test func combiningMarkAfterClosingBracketStillEndsTheCode() {
    // `"]\u{301}"` is a single Character; scanning by Character would miss the `]`.
    let cq = "[CQ:face,id=1]\u{301}"
    #expect(parsed(cq) == exact([segment("face", ["id": "1"]), .text("\u{301}")]))
    #expect(CQCode.serialize(CQCode.parse(cq)) == cq)
}

@Test func combiningMarksNextToOtherDelimiters() {
    #expect(
        parsed("[CQ:x,k=\u{301},\u{301}j=v\u{301}]")
            == exact([segment("x", ["k": "\u{301}", "\u{301}j": "v\u{301}"])]))
    #expect(parsed("&#91;\u{301}") == exact([.text("[\u{301}")]))
    #expect(parsed("[\u{301}CQ:x]") == exact([.text("[\u{301}CQ:x]")]))
    #expect(CQCode.escapeText("e\u{301}]\u{301}") == "e\u{301}&#93;\u{301}")
}

@Test func lineBreaksInTextAndValues() {
    let cq = "a\r\nb[CQ:x,v=1\r\n2\r]\r\n"
    #expect(parsed(cq) == exact([.text("a\r\nb"), segment("x", ["v": "1\r\n2\r"]), .text("\r\n")]))
    #expect(CQCode.serialize(CQCode.parse(cq)) == cq)
}

// MARK: Malformed codes are text

@Test(arguments: [
    "[CQ:face,id=1", "[CQ:", "[CQ:]", "[CQ:face,id]", "[CQ:face,]", "[CQ:,id=1]", "[CQ:face,=1]",
    "[CQ:face, =1]", "[CQ:face,id=1,", "[CQ:face,id", "[CQ", "[CQ:face", "[", "]",
])
func malformedCodeIsLiteralText(_ cq: String) {
    #expect(parsed(cq) == exact([.text(cq)]))
    #expect(parsed(CQCode.serialize(CQCode.parse(cq))) == exact([.text(cq)]))
}

@Test func literalCandidateTextIsStillUnescaped() {
    #expect(parsed("[CQ:face,id=&amp;&#44;") == exact([.text("[CQ:face,id=&,")]))
}

@Test func scanningGoesOnAfterAnInvalidCandidate() {
    #expect(parsed("[CQ:face,id][CQ:face,id=2]") == exact([.text("[CQ:face,id]"), segment("face", ["id": "2"])]))
    #expect(parsed("[CQ:a,[CQ:b]") == exact([.text("[CQ:a,"), segment("b")]))
    #expect(parsed("[CQ:a,k [CQ:b,c=d]") == exact([.text("[CQ:a,k "), segment("b", ["c": "d"])]))
    #expect(parsed("[CQ:[CQ:face]") == exact([segment("[CQ:face")]))
    #expect(parsed("[CQ:face,id=1]]") == exact([segment("face", ["id": "1"]), .text("]")]))
}

@Test func rawBracketInValueIsToleratedAndTheFirstCloseEndsTheCode() {
    #expect(parsed("[CQ:image,file=[x].jpg]") == exact([segment("image", ["file": "[x"]), .text(".jpg]")]))
    #expect(parsed("[CQ:x,v=[CQ:y,w=1]") == exact([segment("x", ["v": "[CQ:y", "w": "1"])]))
}

@Test(.timeLimit(.minutes(1))) func hostileInputParsesInLinearTime() {
    // A naive rescan after every failed candidate would take quadratic time on these.
    let nested = String(repeating: "[CQ:x,a=", count: 20_000) + ",bad]"
    #expect(parsed(nested) == exact([.text(nested)]))
    let unterminated = String(repeating: "[CQ:a", count: 40_000)
    #expect(parsed(unterminated) == exact([.text(unterminated)]))
}

// MARK: Serialising

@Test func valuesAreStringified() {
    var image = segment("image", ["file": "a.jpg", "sub_type": 0, "cache": true, "flash": false, "ratio": .double(1.5)])
    image.data.append((key: "url", value: JSONValue.null))
    let extra: JSONValue = ["k": [1, "a,b"], "a": .null]
    image.data.append((key: "extra", value: extra))
    #expect(CQCode.serialize([image])
        == #"[CQ:image,file=a.jpg,sub_type=0,cache=true,flash=false,ratio=1.5,extra={"a":null&#44;"k":&#91;1&#44;"a&#44;b"&#93;}]"#)
    #expect(CQCode.serialize([segment("reply", ["id": -1834013271])]) == "[CQ:reply,id=-1834013271]")
}

@Test func emptyDataGivesABareCode() {
    #expect(CQCode.serialize([segment("dice")]) == "[CQ:dice]")
    var onlyNull = segment("rps")
    onlyNull.data = [(key: "result", value: .null)]
    #expect(CQCode.serialize([onlyNull]) == "[CQ:rps]")
    #expect(parsed("[CQ:dice]") == exact([segment("dice")]))
}

@Test func textThatLooksLikeACodeStaysText() {
    let text = "[CQ:face,id=1]"
    #expect(CQCode.serialize([.text(text)]) == "&#91;CQ:face,id=1&#93;")
    #expect(parsed(CQCode.serialize([.text(text)])) == exact([.text(text)]))
}

@Test func emptyMessage() {
    #expect(CQCode.parse("").isEmpty)
    #expect(CQCode.serialize([]) == "")
    #expect(CQCode.serialize([.text("")]) == "")
}

@Test func normalizeMergesTextDropsEmptyTextAndStringifies() {
    let message = [
        .text(""), .text("a"), .text("&"), segment("at", ["qq": 10001]), .text(""),
        segment("text", ["text": 5]), .text("b"), segment("x", ["n": .null, "b": true]),
    ]
    let expected = [.text("a&"), segment("at", ["qq": "10001"]), .text("5b"), segment("x", ["b": "true"])]
    #expect(exact(CQCode.normalize(message)) == exact(expected))
    #expect(parsed(CQCode.serialize(message)) == exact(expected))
}

// MARK: Properties

/// SplitMix64: a tiny deterministic generator, so every run tests the same cases.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random messages over pieces rich in delimiters, entities, line breaks and multi-scalar characters.
private struct Generator {
    var random: SplitMix64

    static let pieces = [
        "&", "[", "]", ",", "=", ":", "C", "Q", "a", ";", "#", "9", "1", "4", " ", "\t", "\r\n", "\r", "\n",
        "é", "e\u{301}", "\u{301}", "\u{20DD}", "😀", "👍🏽", "👨‍👩‍👧", "🇨🇳", "中", "文",
        "[CQ:", "[CQ:face", "[CQ:at,qq=1]", ",id=", ",k=v", "&amp;", "&#91;", "&#93;", "&#44;", "&#9", "amp;",
    ]
    static let types = ["face", "image", "at", "reply", "node", "json", "share", "dice", "x.y-z_9", "mface"]
    static let keys = ["id", "file", "qq", "text", "title", "url", "data", "type", "k.1-x_2"]

    mutating func count(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    mutating func string(maxPieces: Int = 10) -> String {
        (0..<count(0...maxPieces)).map { _ in Self.pieces.randomElement(using: &random)! }.joined()
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch count(0...(depth < 2 ? 9 : 6)) {
        case 0, 1, 2: return .string(string())
        case 3: return .int(Int64.random(in: .min ... .max, using: &random))
        case 4: return .bool(Bool.random(using: &random))
        case 5: return .double(Double(count(-1000...1000)) / 8)
        case 6: return .null
        case 7: return .array((0..<count(0...3)).map { _ in value(depth: depth + 1) })
        default:
            let keys = (0..<count(0...3)).map { _ in string(maxPieces: 3) }
            return .object(Dictionary(keys.map { ($0, value(depth: depth + 1)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    mutating func segment() -> OneBotSegment {
        switch count(0...9) {
        case 0...3: return .text(string())
        case 4: return OneBotSegment(type: "text", data: [("text", value())])
        default:
            var segment = OneBotSegment(type: Self.types.randomElement(using: &random)!)
            // Assigned directly so that null values reach `serialize` too.
            segment.data = (0..<count(0...4)).map { _ in (Self.keys.randomElement(using: &random)!, value()) }
            return segment
        }
    }

    mutating func message() -> [OneBotSegment] {
        (0..<count(0...6)).map { _ in segment() }
    }
}

@Test func parseOfSerializeIsNormalize() {
    var generator = Generator(random: SplitMix64(state: 0x0B07_0B07))
    for _ in 0..<3_000 {
        let message = generator.message()
        let serialized = CQCode.serialize(message)
        let roundTrip = CQCode.parse(serialized)
        guard exact(roundTrip) == exact(CQCode.normalize(message)) else {
            Issue.record("round trip failed for \(message) via \(serialized.debugDescription)")
            return
        }
    }
}

@Test func parseIsAFixedPointAfterOneRoundAndMatchesTheNaiveRules() {
    var generator = Generator(random: SplitMix64(state: 0xC0DE))
    var codes = 0
    for _ in 0..<3_000 {
        let message = generator.string(maxPieces: 30)
        let segments = CQCode.parse(message)
        codes += segments.filter { $0.type != "text" }.count
        let again = CQCode.parse(CQCode.serialize(segments))
        guard exact(again) == exact(segments),
            exact(CQCode.normalize(segments)) == exact(segments),
            exact(segments) == exact(naiveParse(message))
        else {
            Issue.record("parse is not stable on \(message.debugDescription)")
            return
        }
    }
    #expect(codes > 1_000, "the generator should produce real codes, not only text")
}

// MARK: Reference parser

/// §4.2's parsing rules applied literally, over an array of Unicode scalars: after a failed candidate,
/// carry on from the scalar after its `[`. Unescaping replaces `&#44;`, `&#91;`, `&#93;` and then `&amp;`.
private func naiveParse(_ message: String) -> [OneBotSegment] {
    let scalars = Array(message.unicodeScalars)
    var segments: [OneBotSegment] = []
    var text: [Unicode.Scalar] = []
    var index = 0
    while index < scalars.count {
        if let (code, end) = naiveCode(scalars, at: index) {
            if !text.isEmpty { segments.append(.text(naiveUnescape(text))) }
            text = []
            segments.append(code)
            index = end
        } else {
            text.append(scalars[index])
            index += 1
        }
    }
    if !text.isEmpty { segments.append(.text(naiveUnescape(text))) }
    return segments
}

private func naiveCode(_ scalars: [Unicode.Scalar], at start: Int) -> (OneBotSegment, Int)? {
    guard scalars[start...].starts(with: "[CQ:".unicodeScalars) else { return nil }
    var index = start + 4
    func read(upTo stops: String) -> [Unicode.Scalar]? {
        let from = index
        while index < scalars.count, !stops.unicodeScalars.contains(scalars[index]) { index += 1 }
        return index < scalars.count ? Array(scalars[from..<index]) : nil
    }
    guard let type = read(upTo: ",]"), !type.isEmpty else { return nil }
    var data: [(key: String, value: JSONValue)] = []
    while scalars[index] == "," {
        index += 1
        guard let rawKey = read(upTo: "=,]"), scalars[index] == "=" else { return nil }
        let isSpace = { (scalar: Unicode.Scalar) in scalar.properties.isWhitespace }
        let key = rawKey.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard !key.isEmpty else { return nil }
        index += 1
        guard let value = read(upTo: ",]") else { return nil }
        data.append((String(String.UnicodeScalarView(key)), .string(naiveUnescape(value))))
    }
    return (OneBotSegment(type: String(String.UnicodeScalarView(type)), data: data), index + 1)
}

private func naiveUnescape(_ scalars: [Unicode.Scalar]) -> String {
    var result = scalars
    for (entity, replacement) in [("&#44;", ","), ("&#91;", "["), ("&#93;", "]"), ("&amp;", "&")] {
        let pattern = Array(entity.unicodeScalars)
        var replaced: [Unicode.Scalar] = []
        var index = 0
        while index < result.count {
            if result[index...].starts(with: pattern) {
                replaced.append(replacement.unicodeScalars.first!)
                index += pattern.count
            } else {
                replaced.append(result[index])
                index += 1
            }
        }
        result = replaced
    }
    return String(String.UnicodeScalarView(result))
}
