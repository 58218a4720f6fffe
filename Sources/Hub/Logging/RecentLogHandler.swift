// SPDX-License-Identifier: Apache-2.0
import Logging

/// A swift-log handler that hands warnings and errors to ``RecentLogs``; it sits beside the hub's
/// own handler in a `MultiplexLogHandler` (``RecentLogs/capturing(_:)``).
///
/// Its level is the ring's minimum whatever it is set to, so a logger set to `critical` for its own
/// output still lets warnings through to the ring, and a logger set to `trace` never fills the ring
/// with debug lines.
struct RecentLogHandler: LogHandler {
    let recent: RecentLogs
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(recent: RecentLogs) {
        self.recent = recent
    }

    var logLevel: Logger.Level {
        get { recent.minimumLevel }
        set {}  // fixed: see the type's documentation
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata { merged.merge(explicit) { _, explicit in explicit } }
        recent.record(level: event.level, message: event.message.description, source: event.source, metadata: merged)
    }
}
