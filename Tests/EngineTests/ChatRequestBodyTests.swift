// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct ChatRequestBodyTests {
    @Test func bodyIsValidJSONWithEveryField() throws {
        let request = ChatRequest(
            model: "m\"1", messages: [ChatMessage(role: .system, content: "be \\ kind\n"), ChatMessage(role: .user, content: "你好 \u{1}")],
            maxTokens: 64, temperature: 0.5)
        let json = try JSONValue(parsing: OpenAICompatibleProvider.requestBody(request, stream: true))
        #expect(json["model"] == "m\"1")
        #expect(json["messages"] == [["role": "system", "content": "be \\ kind\n"], ["role": "user", "content": "你好 \u{1}"]])
        #expect(json["max_tokens"] == 64)
        #expect(json["temperature"] == .double(0.5))
        #expect(json["stream"] == true)
        #expect(json["stream_options"]?["include_usage"] == true)
    }

    @Test func optionalFieldsAreLeftOut() throws {
        let json = try JSONValue(parsing: OpenAICompatibleProvider.requestBody(ChatRequest(model: "m", messages: []), stream: false))
        #expect(json == ["model": "m", "messages": []])
    }
}
