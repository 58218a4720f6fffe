// SPDX-License-Identifier: Apache-2.0

/// The configured chat providers and which one serves which model.
public struct ChatModels: Sendable {
    public let providers: [any ChatProvider]
    /// The model used when a session chose none: the configured default, else the first model of
    /// the first provider.
    public let defaultModel: String?

    public init(providers: [any ChatProvider], defaultModel: String? = nil) {
        self.providers = providers
        self.defaultModel = defaultModel ?? providers.lazy.compactMap(\.models.first).first
    }

    /// Every model, in configuration order, without repeats.
    public var available: [String] {
        var seen = Set<String>()
        return providers.flatMap(\.models).filter { seen.insert($0).inserted }
    }

    /// Whether any provider is configured.
    public var isEmpty: Bool { providers.isEmpty }
}
