// SPDX-License-Identifier: Apache-2.0

/// `server`: the one HTTP listener every door shares.
///
/// ```yaml
/// server: { host: 127.0.0.1, port: 8080, max_body_bytes: 1048576, request_timeout: 5 }
/// ```
///
/// The hub listens on loopback unless `host` says otherwise: its doors spend the operator's
/// provider keys, so reaching them from elsewhere is a decision (`HUB_SERVER_HOST=0.0.0.0` in a
/// container), and then `hub serve` and `hub check-config` name every door left without a credential.
struct ServerSettings: ConfigurationSection {
    /// Address to bind: loopback unless set. `HUB_SERVER_HOST`.
    var host = "127.0.0.1"
    /// Port to bind; 0 picks a free port (tests). `HUB_SERVER_PORT`.
    var port = 8080
    /// Largest request body accepted, in bytes. `HUB_SERVER_MAX_BODY_BYTES`.
    var maxBodyBytes = 1_048_576
    /// Seconds a request may take to arrive: its head from its first byte, and each read of its
    /// body while the hub waits for it. A late client is answered 408 and closed. A connection
    /// idle before or between requests is not affected: it closes after 75 s.
    /// `HUB_SERVER_REQUEST_TIMEOUT`.
    var requestTimeout = 5.0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host
        case port
        case maxBodyBytes = "max_body_bytes"
        case requestTimeout = "request_timeout"
    }
}

extension ServerSettings {
    /// Whether `host` is reachable from this machine only.
    var isLoopback: Bool {
        let name = host.lowercased()
        return name == "localhost" || name == "::1" || name == "[::1]" || name.hasPrefix("127.")
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        host = try container.decode(.host, default: defaults.host)
        port = try container.decode(.port, default: defaults.port)
        maxBodyBytes = try container.decode(.maxBodyBytes, default: defaults.maxBodyBytes)
        requestTimeout = try container.decode(.requestTimeout, default: defaults.requestTimeout)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.nonEmpty(host, "server.host")
        validator.require((0...65535).contains(port), "server.port", "must be between 0 and 65535, found \(port)")
        validator.positive(maxBodyBytes, "server.max_body_bytes")
        validator.positive(requestTimeout, "server.request_timeout")
    }
}
