// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle

/// The files jobs make, in one directory (`storage.media_dir`), each named by an unguessable id
/// (`{id}.{ext}`), served at `/media/{id}.{ext}` and deleted after `storage.media_ttl`.
///
/// As a `Service` it sweeps the directory every tenth of the time to live (at most hourly):
/// files older than the TTL go, and so do the rows of jobs finished before then.
public final class MediaStore: Service, Sendable {
    public let directory: URL
    public let ttl: Duration
    private let jobs: JobStore?
    private let databaseReady: StartSignal?
    private let logger: Logger

    /// - Parameters:
    ///   - jobs: the jobs whose rows go with their files; nil: files only.
    ///   - databaseReady: fired once the database is migrated; the sweep waits for it.
    public init(directory: String, ttl: Duration, jobs: JobStore? = nil, databaseReady: StartSignal? = nil, logger: Logger) {
        self.databaseReady = databaseReady
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        self.ttl = ttl
        self.jobs = jobs
        self.logger = logger
    }

    /// Writes `image` under a fresh id.
    public func save(_ image: GeneratedImage) throws -> MediaFile {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = MediaFile(id: JobRecord.makeID(), format: image.format, width: image.width, height: image.height)
        try Data(image.bytes).write(to: directory.appendingPathComponent(file.fileName), options: [.atomic])
        return file
    }

    /// The file for a `{id}.{ext}` name, or nil when the name is not one the store makes.
    public func url(forName name: String) -> URL? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, JobRecord.isValidID(parts[0]),
            GeneratedImage.Format.allCases.contains(where: { $0.fileExtension == parts[1] })
        else { return nil }
        return directory.appendingPathComponent(name)
    }

    /// The bytes of a stored file, or nil when there is none (never made, or swept).
    public func read(_ file: MediaFile) -> [UInt8]? {
        guard let url = url(forName: file.fileName), let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return Array(data)
    }

    /// Deletes files older than the TTL and forgets jobs finished before then. Returns the files deleted.
    @discardableResult
    public func sweep(now: Date = Date()) async -> Int {
        let cutoff = now.addingTimeInterval(-Double(ttl.nanoseconds) / 1e9)
        if let jobs {
            do {
                _ = try await jobs.deleteFinished(before: cutoff)
            } catch {
                logger.warning("old jobs not deleted", metadata: ["error": "\(error)"])
            }
        }
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var deleted = 0
        for name in names where url(forName: name) != nil {
            let path = directory.appendingPathComponent(name).path
            guard let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff else { continue }
            if (try? manager.removeItem(atPath: path)) != nil { deleted += 1 }
        }
        if deleted > 0 { logger.info("media swept", metadata: ["hub.files": "\(deleted)"]) }
        return deleted
    }

    public func run() async throws {
        if let databaseReady {
            await withTaskCancellationHandler { await databaseReady.wait() } onCancel: { databaseReady.fire() }
            guard !Task.isCancelled else { return }
        }
        let period = min(max(ttl / 10, .seconds(1)), .seconds(3600))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sweep()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            } catch {
                return
            }
        }
    }
}
