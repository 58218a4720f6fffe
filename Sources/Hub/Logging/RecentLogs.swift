// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import Synchronization

/// The hub's most recent warnings and errors, kept in memory for `/admin/errors`: a bounded ring
/// (the oldest entry goes when it is full), filled by ``RecentLogHandler`` beside the hub's own
/// log output.
///
/// Nothing secret is kept: every configured secret (tokens, keys, URL passwords) is cut out of the
/// message and the metadata values, metadata keys that name a credential keep no value, and each
/// entry holds a few metadata keys of bounded length.
///
/// ```swift
/// let recent = RecentLogs(secrets: configuration.secretValues)
/// let logger = recent.capturing(logger)      // log as before; warnings and errors are kept too
/// recent.entries(limit: 50)                  // newest first
/// ```
final class RecentLogs: Sendable {
    /// One kept log line.
    struct Entry: Sendable, Hashable {
        /// Increases by one per entry kept since the hub started.
        var id: Int
        var at: Date
        var level: Logger.Level
        var message: String
        /// The module that logged it (`Engine`, `Adapters`, `Hub`).
        var source: String
        var metadata: [String: String]
    }

    private struct Ring {
        var entries: [Entry] = []
        /// Where the next entry goes once the ring is full.
        var next = 0
        var total = 0
    }

    /// Most entries kept.
    let capacity: Int
    /// The lowest level kept.
    let minimumLevel: Logger.Level
    static let maxMessageLength = 600
    static let maxValueLength = 300
    static let maxMetadataKeys = 6
    static let redacted = "[redacted]"
    private let secrets: [String]
    private let ring = Mutex(Ring())

    /// - Parameters:
    ///   - capacity: most entries kept (at least 1).
    ///   - minimumLevel: the lowest level kept; `warning` by default.
    ///   - secrets: texts that must never be kept (shorter than 4 characters are ignored: they
    ///     would cut ordinary words).
    init(capacity: Int = 200, minimumLevel: Logger.Level = .warning, secrets: [String] = []) {
        self.capacity = max(1, capacity)
        self.minimumLevel = minimumLevel
        // Longest first, so a secret that contains another is cut whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// `logger`, writing where it wrote before and also into this ring. Its level stays what it
    /// was for its own output; warnings and errors reach the ring even when that level is higher.
    func capturing(_ logger: Logger) -> Logger {
        let original = logger.handler
        let handler = RecentLogHandler(recent: self)
        return Logger(label: logger.label) { _ in MultiplexLogHandler([original, handler]) }
    }

    /// Keeps one log line (when its level is high enough).
    func record(level: Logger.Level, message: String, source: String, metadata: Logger.Metadata) {
        guard level >= minimumLevel else { return }
        let kept = keptMetadata(metadata)
        let text = clip(redact(message), Self.maxMessageLength)
        ring.withLock { ring in
            ring.total += 1
            let entry = Entry(id: ring.total, at: Date(), level: level, message: text, source: source, metadata: kept)
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.next] = entry
                ring.next = (ring.next + 1) % capacity
            }
        }
    }

    /// The kept entries, newest first, at most `limit`.
    func entries(limit: Int = .max) -> [Entry] {
        ring.withLock { ring in
            let ordered = Array(ring.entries[ring.next...]) + Array(ring.entries[..<ring.next])
            return Array(ordered.reversed().prefix(max(0, limit)))
        }
    }

    /// Entries recorded since the hub started, kept or since pushed out.
    var total: Int { ring.withLock { $0.total } }

    // MARK: Redaction

    /// `text` with every secret replaced by ``redacted``.
    func redact(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: Self.redacted)
        }
        return text
    }

    /// Metadata keys whose values are credentials whatever they hold.
    static func namesACredential(_ key: String) -> Bool {
        let key = key.lowercased()
        return ["token", "secret", "password", "passwd", "authorization", "cookie", "api_key", "apikey", "signature"].contains { key.contains($0) }
    }

    private func keptMetadata(_ metadata: Logger.Metadata) -> [String: String] {
        // `error` first, then the rest by name; request ids are noise here.
        let keys = metadata.keys.filter { $0 != "hb.request.id" }.sorted { ($0 == "error" ? 0 : 1, $0) < ($1 == "error" ? 0 : 1, $1) }
        var kept = [String: String]()
        for key in keys.prefix(Self.maxMetadataKeys) {
            let value = Self.namesACredential(key) ? Self.redacted : clip(redact(metadata[key]!.description), Self.maxValueLength)
            kept[clip(key, 64)] = value
        }
        return kept
    }

    private func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
