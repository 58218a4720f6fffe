// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import Testing

@testable import Hub

/// The ring behind `/admin/errors`: bounded, newest first, warnings and up, and never a secret.
struct RecentLogsTests {
    func quietLogger() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    @Test func keepsWarningsAndErrorsEvenWhenTheLoggerIsQuiet() {
        let recent = RecentLogs(capacity: 10)
        var logger = recent.capturing(quietLogger())
        logger[metadataKey: "hub.bot"] = "42"
        logger.debug("debug line")
        logger.info("info line")
        logger.notice("notice line")
        logger.warning("a warning", metadata: ["hub.attempt": "2"])
        logger.error("an error")
        logger.critical("a critical")
        let entries = recent.entries()
        #expect(entries.map(\.message) == ["a critical", "an error", "a warning"])
        #expect(entries.map(\.level) == [.critical, .error, .warning])
        #expect(entries[2].metadata == ["hub.bot": "42", "hub.attempt": "2"])
        #expect(entries[2].source == "HubTests")
        #expect(entries.map(\.id) == [3, 2, 1])
    }

    @Test func theRingIsBoundedAndKeepsTheNewest() {
        let recent = RecentLogs(capacity: 5)
        let logger = recent.capturing(quietLogger())
        for index in 1...12 { logger.warning("warning \(index)") }
        #expect(recent.entries().map(\.message) == (8...12).reversed().map { "warning \($0)" })
        #expect(recent.entries(limit: 2).map(\.id) == [12, 11])
        #expect(recent.total == 12)
    }

    @Test func secretsAreCutOutOfMessagesAndMetadata() {
        let recent = RecentLogs(capacity: 10, secrets: ["t0k3n-value", "sk-upstream-123", "abc"])
        let logger = recent.capturing(quietLogger())
        logger.warning(
            "upstream said: bad key sk-upstream-123 (token t0k3n-value)",
            metadata: [
                "error": "refused sk-upstream-123", "hub.api_key": "whatever", "Authorization": "Bearer x", "hub.access_token": "y",
                "hub.note": "abc stays: too short to be a secret",
            ])
        let entry = recent.entries()[0]
        #expect(entry.message == "upstream said: bad key [redacted] (token [redacted])")
        #expect(entry.metadata["error"] == "refused [redacted]")
        #expect(entry.metadata["hub.api_key"] == "[redacted]")
        #expect(entry.metadata["Authorization"] == "[redacted]")
        #expect(entry.metadata["hub.access_token"] == "[redacted]")
        #expect(entry.metadata["hub.note"] == "abc stays: too short to be a secret")
    }

    @Test func longMessagesAndManyKeysAreBounded() {
        let recent = RecentLogs(capacity: 10)
        let logger = recent.capturing(quietLogger())
        var metadata = Logger.Metadata()
        for index in 0..<20 { metadata["hub.key\(index)"] = .string(String(repeating: "v", count: 1000)) }
        metadata["error"] = "the cause"
        logger.error("\(String(repeating: "m", count: 5000))", metadata: metadata)
        let entry = recent.entries()[0]
        #expect(entry.message.count <= RecentLogs.maxMessageLength + 1)
        #expect(entry.metadata.count == RecentLogs.maxMetadataKeys)
        #expect(entry.metadata["error"] == "the cause")
        #expect(entry.metadata.values.allSatisfy { $0.count <= RecentLogs.maxValueLength + 1 })
    }

    @Test func theConfigurationNamesEverySecretItHolds() throws {
        let configuration = try HubConfiguration.parse(
            yaml: """
                admin: { api_key: admin-secret }
                redis: { url: "redis://user:redis-pass@127.0.0.1:6379/0" }
                onebot: { access_token: onebot-token, secret: onebot-signing }
                gateway: { api_keys: [ client-key-1, client-key-2 ] }
                llm:
                  providers:
                    - { name: p, base_url: "https://u:url-pass@llm.example/v1", api_key: provider-key, models: [ { name: m } ] }
                """, environment: [:])
        let secrets = Set(configuration.secretValues)
        for expected in ["admin-secret", "redis-pass", "onebot-token", "onebot-signing", "client-key-1", "client-key-2", "url-pass", "provider-key"] {
            #expect(secrets.contains(expected), "\(expected)")
        }
        #expect(!secrets.contains("p"))
        #expect(!secrets.contains("m"))
    }
}
