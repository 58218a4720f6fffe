// SPDX-License-Identifier: Apache-2.0

/// The rules for every fetch a user can cause (an image or voice URL in a message, a media link):
/// http or https only, every address the name resolves to public unless allowed, every redirect
/// checked again, the body and the time capped.
public struct FetchPolicy: Sendable, Hashable {
    /// Whether private, loopback and link-local addresses may be fetched (a hub on a trusted LAN).
    public var allowPrivateAddresses: Bool
    /// Host names (exact, case-insensitive) and IP literals fetched even when they resolve to a
    /// private address, such as the operator's own media server.
    public var allowedHosts: Set<String>
    /// Largest body read; a larger one ends the fetch.
    public var maxBytes: Int
    /// For the whole fetch, redirects included.
    public var timeout: Duration
    /// Redirects followed (each checked like the first URL).
    public var maxRedirects: Int

    public init(
        allowPrivateAddresses: Bool = false, allowedHosts: Set<String> = [], maxBytes: Int = 20 << 20, timeout: Duration = .seconds(15),
        maxRedirects: Int = 3
    ) {
        self.allowPrivateAddresses = allowPrivateAddresses
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.maxBytes = max(0, maxBytes)
        self.timeout = timeout
        self.maxRedirects = max(0, maxRedirects)
    }

    /// Whether an address of `kind` may be fetched for `host`.
    func permits(_ kind: IPAddressKind, host: String) -> Bool {
        switch kind {
        case .public: true
        case .multicast, .reserved: false
        case .loopback, .private, .linkLocal: allowPrivateAddresses || allowedHosts.contains(host.lowercased())
        }
    }
}
