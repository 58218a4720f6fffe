// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct SpeakableTextTests {
    @Test func cqCodesAreDropped() {
        #expect(SpeakableText.clean("[CQ:reply,id=-2000][CQ:at,qq=10001] hello [CQ:face,id=1]there") == "hello there.")
        #expect(SpeakableText.clean("[CQ:image,file=a.jpg,url=https://x/y?a=1&amp;b=2]") == "")
    }

    @Test func htmlTagsAndEntitiesBecomePlainText() {
        #expect(SpeakableText.clean("<p>Hello <b>big</b> world</p><p>Second</p>") == "Hello big world. Second.")
        #expect(SpeakableText.clean("a &lt; b &amp;&amp; c &gt; d&#33;") == "a < b && c > d!")
        #expect(SpeakableText.clean("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2.")  // not tags
        #expect(SpeakableText.clean("line<br/>break") == "line. break.")
        #expect(SpeakableText.clean("&#91;not a code&#93;") == "[not a code].")
    }

    @Test func markdownSyntaxIsRemoved() {
        #expect(SpeakableText.clean("# Title\nSome **bold**, *italic* and `code`.") == "Title. Some bold, italic and code.")
        #expect(SpeakableText.clean("## Steps\n- first\n- second\n1. third") == "Steps. first. second. third.")
        #expect(SpeakableText.clean("See [the docs](https://example.com) and ![a cat](cat.png)!") == "See the docs and a cat!")
        #expect(SpeakableText.clean("```swift\nprint(1)\n```") == "print(1).")
        #expect(SpeakableText.clean("> quoted ~~struck~~ __under__") == "quoted struck under.")
        #expect(SpeakableText.clean("| a | b |\n|---|---|\n| 1 | 2 |") == "a b. 1 2.")
    }

    @Test func plainTextKeepsItsWordsAndPunctuation() {
        #expect(SpeakableText.clean("Hello world, what time is it?") == "Hello world, what time is it?")
        #expect(SpeakableText.clean("snake_case and 2*3*4 stay") == "snake_case and 2*3*4 stay.")
        #expect(SpeakableText.clean("你好，世界。今天**天气**很好") == "你好，世界。今天天气很好.")
        #expect(SpeakableText.clean("  \n\n  ") == "")
        #expect(SpeakableText.clean("**") == "")
    }
}
