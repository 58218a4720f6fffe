// SPDX-License-Identifier: Apache-2.0

/// `server`: the one HTTP listener every door shares.
///
/// ```yaml
/// server: { host: 0.0.0.0, port: 8080, max_body_bytes: 1048576 }
/// ```
struct ServerSettings: ConfigurationSection {
    /// Address to bind. `HUB_SERVER_HOST`.
    var host = "0.0.0.0"
    /// Port to bind; 0 picks a free port (tests). `HUB_SERVER_PORT`.
    var port = 8080
    /// Largest request body accepted, in bytes. `HUB_SERVER_MAX_BODY_BYTES`.
    var maxBodyBytes = 1_048_576

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host
        case port
        case maxBodyBytes = "max_body_bytes"
    }
}

extension ServerSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        host = try container.decode(.host, default: defaults.host)
        port = try container.decode(.port, default: defaults.port)
        maxBodyBytes = try container.decode(.maxBodyBytes, default: defaults.maxBodyBytes)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.nonEmpty(host, "server.host")
        validator.require((0...65535).contains(port), "server.port", "must be between 0 and 65535, found \(port)")
        validator.positive(maxBodyBytes, "server.max_body_bytes")
    }
}
