// SPDX-License-Identifier: Apache-2.0

extension TokenUsage {
    /// Reads OpenAI's usage object (`prompt_tokens`, `completion_tokens`); nil without prompt tokens.
    public init?(json value: JSONValue?) {
        guard let value, let prompt = value["prompt_tokens"]?.int64Value else { return nil }
        self.init(promptTokens: Int(prompt), completionTokens: Int(value["completion_tokens"]?.int64Value ?? 0))
    }

    /// OpenAI's usage object: `{"prompt_tokens","completion_tokens","total_tokens"}`.
    public var json: JSONValue {
        .object([
            "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
            "total_tokens": .int(Int64(totalTokens)),
        ])
    }
}
