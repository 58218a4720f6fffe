// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation

/// `redis`: the optional shared cache. Without a URL the hub uses an in-process cache.
///
/// ```yaml
/// redis: { url: redis://127.0.0.1:6379/0, pool_size: 2, command_timeout: 0.5, key_prefix: "hub:" }
/// ```
struct RedisSettings: ConfigurationSection {
    /// `redis://[[user]:password@]host[:port][/db]` or `unix:///path/to/socket[?db=N]`; `nil` for the
    /// in-process cache. `HUB_REDIS_URL`. May hold a password: log ``maskedURL``, not this.
    var url: String?
    /// Connections kept open. `HUB_REDIS_POOL_SIZE`.
    var poolSize = 2
    /// Seconds to connect (and authenticate). `HUB_REDIS_CONNECT_TIMEOUT`.
    var connectTimeout = 1.0
    /// Seconds to wait for one reply before falling back. `HUB_REDIS_COMMAND_TIMEOUT`.
    var commandTimeout = 0.5
    /// Put before every key, so several deployments can share one server. `HUB_REDIS_KEY_PREFIX`.
    var keyPrefix = "hub:"
    /// Seconds an untouched session's history stays cached. `HUB_REDIS_HISTORY_TTL`.
    var historyTTL = 1800.0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case poolSize = "pool_size"
        case connectTimeout = "connect_timeout"
        case commandTimeout = "command_timeout"
        case keyPrefix = "key_prefix"
        case historyTTL = "history_ttl"
    }

    /// ``url`` with any password replaced by `****`, for logs.
    var maskedURL: String? {
        url.map(URLCredentials.masked)
    }
}

extension RedisSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        url = try container.decodeIfPresent(String.self, forKey: .url)
        poolSize = try container.decode(.poolSize, default: defaults.poolSize)
        connectTimeout = try container.decode(.connectTimeout, default: defaults.connectTimeout)
        commandTimeout = try container.decode(.commandTimeout, default: defaults.commandTimeout)
        keyPrefix = try container.decode(.keyPrefix, default: defaults.keyPrefix)
        historyTTL = try container.decode(.historyTTL, default: defaults.historyTTL)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.require((1...64).contains(poolSize), "redis.pool_size", "must be between 1 and 64, found \(poolSize)")
        validator.require(connectTimeout > 0, "redis.connect_timeout", "must be a positive number of seconds")
        validator.require(commandTimeout > 0, "redis.command_timeout", "must be a positive number of seconds")
        validator.require(historyTTL >= 1, "redis.history_ttl", "must be at least 1 second")
        for (value, path) in [(connectTimeout, "redis.connect_timeout"), (commandTimeout, "redis.command_timeout"), (historyTTL, "redis.history_ttl")] {
            validator.bounded(value, path)
        }
        guard let url else { return }
        do {
            _ = try RedisConfiguration(url: url)
        } catch {
            validator.require(
                false, "redis.url",
                "expected redis://[[user]:password@]host[:port][/db] or unix:///path, found \(ConfigurationNode.quoted(URLCredentials.masked(url))) (\(error))")
        }
    }

    /// The client configuration; nil without a URL.
    func clientConfiguration() throws -> RedisConfiguration? {
        guard let url else { return nil }
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = poolSize
        configuration.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        configuration.commandTimeout = .milliseconds(Int64(commandTimeout * 1000))
        return configuration
    }
}

/// Masks the credentials in a URL's user-info part: `redis://:pw@host` → `redis://:****@host`.
enum URLCredentials {
    static func masked(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else { return url }
        let userInfo = url[authorityStart..<at]
        let maskedUserInfo: String
        if let colon = userInfo.firstIndex(of: ":") {
            maskedUserInfo = String(userInfo[..<colon]) + ":****"
        } else {
            maskedUserInfo = "****"
        }
        return String(url[..<authorityStart]) + maskedUserInfo + String(url[at...])
    }
}
