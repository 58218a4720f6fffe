// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine

extension FuzzTarget {
    /// Request bodies of the OpenAI-compatible API: `POST /v1/chat/completions` and the seed's
    /// `POST /api/v1/llm/generate`. A body the decoder accepts must satisfy every range it checks.
    static let openAIRequest = FuzzTarget(name: "openai-request", summary: "OpenAI request bodies: chat completions, generate") { bytes in
        if let request = try? OpenAIChatCompletionRequest.decode(bytes) {
            expect(!request.model.isEmpty && !request.messages.isEmpty, "model or messages empty")
            expect(request.maxTokens.map { $0 >= 1 } ?? true, "max_tokens below 1")
            expect(request.temperature.map { $0.isFinite && (0...2).contains($0) } ?? true, "temperature out of range")
            expect(request.topP.map { $0.isFinite && (0...1).contains($0) } ?? true, "top_p out of range")
            expect(request.stream || !request.includeUsage, "include_usage without stream")
            _ = request.chatRequest
        }
        if let request = try? OpenAIGenerateRequest.decode(bytes) {
            let chat = request.chatRequest(model: "m")
            expect(chat.maxTokens.map { $0 >= 1 } ?? true, "max_tokens below 1")
            expect(chat.temperature.map { (0...2).contains($0) } ?? true, "temperature out of range")
        }
    }
}
