// SPDX-License-Identifier: Apache-2.0
import Crypto
import Engine
import Foundation
import Testing

@testable import Adapters

/// The HMAC-SHA1 of `body` under `secret`, as lowercase hex, computed here independently of the hub.
private func hmacHex(_ body: [UInt8], secret: String) -> String {
    let code = HMAC<Insecure.SHA1>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
    return code.map { String(format: "%02x", $0) }.joined()
}

/// A body the way go-cqhttp sends it: compact, with unescaped UTF-8.
private let body = Array(
    #"{"time":1718800000,"self_id":2837465019,"post_type":"message","message_type":"private","message_id":-7,"user_id":1357924680,"message":"你好 &#91;ok&#93; ✓","raw_message":"你好 &#91;ok&#93; ✓"}"#
        .utf8)
private let secret = "hmac-key-42"

@Suite struct OneBotSignatureTests {
    @Test func correctSignatureOfTheRawBytesPasses() {
        let header = "sha1=" + hmacHex(body, secret: secret)
        #expect(header.count == 45)
        #expect(AccessCredentials.checkSignature(header, body: body, secret: secret) == .ok)
        #expect(AccessCredentials.checkSignature(header, body: body[...], secret: secret) == .ok)
    }

    @Test func uppercaseHexPasses() {
        let header = "sha1=" + hmacHex(body, secret: secret).uppercased()
        #expect(AccessCredentials.checkSignature(header, body: body, secret: secret) == .ok)
    }

    @Test func surroundingSpacesAreTolerated() {
        let header = "  sha1=" + hmacHex(body, secret: secret) + " "
        #expect(AccessCredentials.checkSignature(header, body: body, secret: secret) == .ok)
    }

    @Test func emptyBodyIsSignedToo() {
        let header = "sha1=" + hmacHex([], secret: secret)
        #expect(AccessCredentials.checkSignature(header, body: [UInt8](), secret: secret) == .ok)
    }

    @Test func theHubsOwnSignatureMatchesTheIndependentOne() {
        #expect(AccessCredentials.signature(body: body, secret: secret) == "sha1=" + hmacHex(body, secret: secret))
    }

    @Test(arguments: [nil, "", "   "] as [String?])
    func missingSignature(_ header: String?) {
        #expect(AccessCredentials.checkSignature(header, body: body, secret: secret) == .missing)
    }

    @Test func wrongSignatures() {
        let right = hmacHex(body, secret: secret)
        let otherSecret = hmacHex(body, secret: "another-key")
        let flipped = String(right.dropLast()) + (right.last == "0" ? "1" : "0")
        let sha256 = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let wrong = [
            "sha1=" + otherSecret,  // another secret
            "sha1=" + flipped,  // one digit off
            "sha1=" + String(right.dropLast(2)),  // 19 bytes
            "sha1=" + right + "00",  // 21 bytes
            "sha1=" + String(right.dropLast()),  // odd number of digits
            "sha1=" + String(repeating: "z", count: 40),  // not hex
            "sha1=" + String(right.dropLast(2)) + "g0",  // one bad digit
            "sha1=",  // nothing
            "sha1=" + right.replacingOccurrences(of: "a", with: "-"),
            "sha256=" + sha256,  // another prefix
            "md5=" + right,
            "sha1:" + right,
            right,  // no prefix
            "sha1= " + right,
        ]
        for header in wrong where header != "sha1=" + right {
            #expect(AccessCredentials.checkSignature(header, body: body, secret: secret) == .wrong, "\(header)")
        }
    }

    @Test func bodyReserialisedDifferentlyFails() throws {
        let header = "sha1=" + hmacHex(body, secret: secret)
        // The same JSON value, written by an encoder that escapes non-ASCII, sorts keys or pretty-prints.
        let escaped = Array(
            #"{"time":1718800000,"self_id":2837465019,"post_type":"message","message_type":"private","message_id":-7,"user_id":1357924680,"message":"\u4f60\u597d &#91;ok&#93; \u2713","raw_message":"\u4f60\u597d &#91;ok&#93; \u2713"}"#
                .utf8)
        let original = try JSONValue(parsing: body)
        let sorted = Array(original.compactJSON.utf8)
        let pretty = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8)
        #expect(try JSONValue(parsing: escaped) == original)
        #expect(try JSONValue(parsing: sorted) == original)
        for variant in [escaped, sorted, pretty, body + [0x0A]] {
            #expect(variant != body)
            #expect(AccessCredentials.checkSignature(header, body: variant, secret: secret) == .wrong)
        }
    }

    @Test func oneChangedByteFails() {
        var tampered = body
        tampered[tampered.count - 3] ^= 0x01
        let header = "sha1=" + hmacHex(body, secret: secret)
        #expect(AccessCredentials.checkSignature(header, body: tampered, secret: secret) == .wrong)
    }
}

@Suite struct OneBotQueryValueTests {
    @Test(arguments: [
        ("access_token=plain", "plain"),
        ("access_token=a%20b", "a b"),
        ("access_token=a+b", "a b"),
        ("access_token=a%2Bb", "a+b"),
        ("access_token=%E4%BD%A0%E5%A5%BD", "你好"),
        ("access_token=x%3Dy%26z", "x=y&z"),
        ("access_token=a=b", "a=b"),
        ("access_token=", ""),
        ("access_token", ""),
        ("x=1&access_token=second", "second"),
        ("access_token=first&access_token=second", "first"),
        ("access_token=%zz", "%zz"),
        ("access_token=100%", "100%"),
    ] as [(String, String?)])
    func percentDecoding(query: String, expected: String?) {
        #expect(AccessCredentials.queryValue("access_token", in: query) == expected)
    }

    @Test(arguments: [nil, "", "x_access_token=1", "access_tokens=1", "ACCESS_TOKEN=1", "token=1&other=2"] as [String?])
    func absentParameter(query: String?) {
        #expect(AccessCredentials.queryValue("access_token", in: query) == nil)
    }
}

@Suite struct OneBotTokenCheckTests {
    @Test func constantTimeComparisonComparesLengthsToo() {
        #expect(ConstantTime.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("ab".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), []))
        #expect(ConstantTime.equal([], []))
    }

    @Test func tokenWithAPrefixOfTheExpectedOneIsWrong() {
        #expect(AccessCredentials.check(authorization: "Bearer s3c", query: nil, expected: "s3cret") == .wrong)
        #expect(AccessCredentials.check(authorization: "Bearer s3cret!", query: nil, expected: "s3cret") == .wrong)
        #expect(AccessCredentials.check(authorization: "Bearer s3cret", query: nil, expected: "s3cret") == .ok)
    }

    @Test func percentEncodedQueryTokenMatches() {
        #expect(AccessCredentials.check(authorization: nil, query: "access_token=p%40ss%2Bw0rd", expected: "p@ss+w0rd") == .ok)
    }
}
