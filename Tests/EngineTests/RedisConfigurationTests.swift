// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

struct RedisConfigurationTests {
    @Test func urls() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
        #expect(plain.endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(plain.password == nil && plain.username == nil && plain.database == 0)

        let full = try RedisConfiguration(url: "redis://alice:p%40ss%3Aword@cache.internal:6380/5")
        #expect(full.endpoint == .tcp(host: "cache.internal", port: 6380))
        #expect(full.username == "alice" && full.password == "p@ss:word" && full.database == 5)

        let passwordOnly = try RedisConfiguration(url: "redis://:secret@redis")
        #expect(passwordOnly.endpoint == .tcp(host: "redis", port: 6379))
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")

        #expect(try RedisConfiguration(url: "redis://secret@redis/2").password == "secret")
        #expect(try RedisConfiguration(url: "REDIS://[::1]:7000/1").endpoint == .tcp(host: "::1", port: 7000))
        #expect(try RedisConfiguration(url: "redis://").endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(try RedisConfiguration(url: "redis://h:1/3?timeout=5").database == 3)

        let socket = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=4")
        #expect(socket.endpoint == .unixSocket(path: "/run/redis/redis.sock"))
        #expect(socket.database == 4)
    }

    @Test(arguments: [
        "http://host", "rediss://host", "redis://host:0", "redis://host:70000", "redis://host:abc", "redis://host/x",
        "redis://host/-1", "redis://:%zz@host", "redis://[::1", "unix://relative.sock",
    ])
    func badURLs(_ url: String) {
        #expect(throws: RedisError.self) { _ = try RedisConfiguration(url: url) }
    }

    @Test func errorsNeverCarryThePassword() {
        do {
            _ = try RedisConfiguration(url: "redis://:topsecret@host:99999")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
        }
    }
}
