// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue(parsing: text)
    }

    /// The error for `text`, or nil when it parsed.
    private func error(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONValue(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    private func error(bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONValue(parsing: bytes)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Numbers

    @Test func integersStayIntegersBeyondInt32() throws {
        #expect(try parse("0") == .int(0))
        #expect(try parse("3847291056") == .int(3_847_291_056))
        #expect(try parse("-1834013271") == .int(-1_834_013_271))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
    }

    @Test func negativeZero() throws {
        // An integral -0 is the integer zero; with a fraction it stays a (negative) double.
        #expect(try parse("-0") == .int(0))
        let double = try parse("-0.0")
        guard case .double(let value) = double else {
            Issue.record("expected a double, got \(double)")
            return
        }
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func fractionsAndExponentsAreDoubles() throws {
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-2.25") == .double(-2.25))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("1E+2") == .double(100))
        #expect(try parse("25e-1") == .double(2.5))
        #expect(try parse("0.0") == .double(0))
    }

    @Test func integersBeyondInt64BecomeDoubles() throws {
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("-9223372036854775809") == .double(-9_223_372_036_854_775_808))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test(arguments: ["01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "-Infinity"])
    func invalidNumbersAreRejected(_ text: String) {
        #expect(error(text) != nil, "\(text) should not parse")
    }

    @Test func leadingZeroReportsTheOffsetOfTheExtraDigit() {
        #expect(error("01") == JSONParseError(offset: 1, reason: "unexpected data after the value"))
    }

    // MARK: Strings

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#) == .string("a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti"))
        #expect(try parse(#""\u00e9\u4F60\u0000""#) == .string("é你\u{0}"))
        // Raw UTF-8 before and after an escape survives the slow path.
        #expect(try parse(#""你好\n世界 😀""#) == .string("你好\n世界 😀"))
    }

    @Test func surrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""x\uD83D\uDC4Dy""#) == .string("x👍y"))
    }

    @Test(arguments: [#""\ud83d""#, #""\ud83dx""#, #""\ude00""#, #""\ud83d\n""#, #""\ud83d\u0041""#, #""\ud83d\ud83d""#])
    func loneOrBrokenSurrogatesAreRejected(_ text: String) {
        #expect(error(text) != nil, "\(text) should not parse")
    }

    @Test func invalidEscapesAreRejected() {
        #expect(error(#""\x""#)?.reason == "invalid escape")
        #expect(error(#""\u12G4""#)?.reason == "invalid hex digit")
        #expect(error(#""\u12""#) != nil)
        #expect(error(#""abc\"#) != nil)
        #expect(error(#""abc"#)?.reason == "unterminated string")
    }

    @Test func controlCharactersInStringsAreRejected() {
        #expect(error("\"a\u{1}b\"") == JSONParseError(offset: 2, reason: "control character in string"))
        #expect(error("\"a\nb\"")?.reason == "control character in string")
        // Also after an escape, on the slow path.
        #expect(error("\"\\n\u{1F}\"") == JSONParseError(offset: 3, reason: "control character in string"))
        // DEL is allowed.
        #expect(error("\"\u{7F}\"") == nil)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(error(bytes: [0x22, 0xFF, 0x22])?.reason == "invalid UTF-8 in string")
        #expect(error(bytes: [0x22, 0x5C, 0x6E, 0xC3, 0x22])?.reason == "invalid UTF-8 in string")
    }

    // MARK: Structure

    @Test func nestedDocument() throws {
        let value = try parse(#" { "a" : [1, 2.5, "x", true, false, null, {}, []], "b": {"c": {"d": -1}} } "#)
        let array: JSONValue = [1, .double(2.5), "x", true, false, .null, [:], []]
        #expect(value["a"] == array)
        #expect(value["b"]?["c"]?["d"] == .int(-1))
    }

    @Test func nestingIsLimitedTo512Levels() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONValue(parsing: deepest) }
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        let failure = try #require(error(tooDeep))
        #expect(failure.reason.contains("nesting"))
        #expect(failure.offset == 512)
        let objects = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(error(objects)?.reason.contains("nesting") == true)
    }

    @Test func trailingGarbageIsRejectedWithItsOffset() {
        #expect(error(#"{"a":1} x"#) == JSONParseError(offset: 8, reason: "unexpected data after the value"))
        #expect(error("[1]]") == JSONParseError(offset: 3, reason: "unexpected data after the value"))
        #expect(error("true false")?.offset == 5)
        #expect(error("nul")?.reason == "unexpected end of input")
        #expect(error("nulx")?.reason == "invalid literal")
    }

    @Test func structuralErrors() {
        #expect(error("[1,]") != nil)
        #expect(error("[1 2]")?.reason == "expected ',' or ']'")
        #expect(error(#"{"a" 1}"#)?.reason == "expected ':'")
        #expect(error(#"{a:1}"#)?.reason == "expected a string key")
        #expect(error(#"{"a":1,}"#)?.reason == "expected a string key")
        #expect(error(#"{"a":1"#)?.reason == "unexpected end of input in object")
        #expect(error("[1")?.reason == "unexpected end of input in array")
        #expect(error("'a'")?.reason == "unexpected character")
    }

    @Test func duplicateKeysFirstWins() throws {
        #expect(try parse(#"{"k":1,"k":2,"j":{"x":"a","x":"b"}}"#) == ["k": 1, "j": ["x": "a"]])
    }

    @Test func emptyAndBlankInputAreErrors() {
        #expect(error("") == JSONParseError(offset: 0, reason: "unexpected end of input"))
        #expect(error(" \n\t") == JSONParseError(offset: 3, reason: "unexpected end of input"))
    }

    @Test func surroundingWhitespaceIsAllowed() throws {
        #expect(try parse("{\"a\":1}\n") == ["a": 1])
        #expect(try parse(" \t\r\n[ 1 ,\n2 ]\r\n") == [1, 2])
        // Only the four JSON whitespace characters count.
        #expect(error("\u{A0}1") != nil)
    }

    @Test func parsesEveryInputShape() throws {
        let text = #"{"id":-1834013271,"s":"é"}"#
        let expected: JSONValue = ["id": .int(-1_834_013_271), "s": "é"]
        #expect(try JSONValue(parsing: Array(text.utf8)) == expected)
        #expect(try JSONValue(parsing: text.utf8) == expected)
        // A collection without contiguous storage takes the copying path.
        #expect(try JSONValue(parsing: text.utf8.lazy.map { $0 }) == expected)
        #expect(try JSONValue(parsing: Substring(text).utf8) == expected)
    }

    // MARK: Output and accessors

    @Test func compactJSONIsSortedAndEscaped() {
        let value: JSONValue = ["b": [1, true, .null], "a": "x\"y\\z\n\t\r\u{1}", "c": .double(1.5)]
        #expect(value.compactJSON == #"{"a":"x\"y\\z\n\t\r\u0001","b":[1,true,null],"c":1.5}"#)
        #expect(JSONValue.double(.nan).compactJSON == "null")
        #expect(JSONValue.double(.infinity).compactJSON == "null")
    }

    @Test func compactJSONRoundTrips() throws {
        let values: [JSONValue] = [
            .null, true, false, .int(.min), .int(.max), .int(0), .double(100), .double(-0.5), .double(1e300), .double(2.5e-10),
            "", "plain", "quote \" backslash \\ slash / tab \t nl \n cr \r bell \u{7} nul \u{0}", "你好 😀 e\u{301}",
            [], [:], ["nested": [["deep": [1, "2", .double(3.5), .null]]], "k": ["a": false]],
        ]
        for value in values {
            let text = value.compactJSON
            #expect(try JSONValue(parsing: text) == value, "round trip of \(text)")
            #expect(try JSONValue(parsing: text).compactJSON == text)
        }
    }

    @Test func int64Value() {
        #expect(JSONValue.int(-5).int64Value == -5)
        #expect(JSONValue.double(3).int64Value == 3)
        #expect(JSONValue.double(3.5).int64Value == nil)
        #expect(JSONValue.double(1e19).int64Value == nil)
        #expect(JSONValue.double(.nan).int64Value == nil)
        #expect(JSONValue.string("-1834013271").int64Value == -1_834_013_271)
        #expect(JSONValue.string(" 3847291056\t").int64Value == 3_847_291_056)
        #expect(JSONValue.string("42\n").int64Value == 42)
        #expect(JSONValue.string("42\r\n").int64Value == 42)
        #expect(JSONValue.string("4 2").int64Value == nil)
        #expect(JSONValue.string("9223372036854775808").int64Value == nil)
        #expect(JSONValue.string("").int64Value == nil)
        #expect(JSONValue.string("abc").int64Value == nil)
        #expect(JSONValue.bool(true).int64Value == nil)
        #expect(JSONValue.null.int64Value == nil)
    }

    @Test func boolValue() {
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.bool(false).boolValue == false)
        #expect(JSONValue.int(1).boolValue == true)
        #expect(JSONValue.int(0).boolValue == false)
        #expect(JSONValue.int(-3).boolValue == true)
        for text in ["true", "TRUE", "Yes", "1"] { #expect(JSONValue.string(text).boolValue == true, "\(text)") }
        for text in ["false", "False", "NO", "0"] { #expect(JSONValue.string(text).boolValue == false, "\(text)") }
        #expect(JSONValue.string("maybe").boolValue == nil)
        #expect(JSONValue.double(1).boolValue == nil)
        #expect(JSONValue.null.boolValue == nil)
    }

    @Test func textValueAndAccessors() {
        #expect(JSONValue.string("x").textValue == "x")
        #expect(JSONValue.int(-7).textValue == "-7")
        #expect(JSONValue.bool(false).textValue == "false")
        #expect(JSONValue.null.textValue == nil)
        #expect(JSONValue.array([1, "a"]).textValue == #"[1,"a"]"#)
        #expect(JSONValue.null.isNull && !JSONValue.int(0).isNull)
        #expect(JSONValue.int(1)["key"] == nil)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.object(["a": 1]).objectValue == ["a": 1])
        #expect(JSONValue.int(1).stringValue == nil)
    }

    @Test func parseErrorDescriptionNamesTheOffset() {
        #expect(JSONParseError(offset: 4, reason: "x").description == "invalid JSON at byte 4: x")
    }
}
