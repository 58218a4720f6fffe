// SPDX-License-Identifier: Apache-2.0

/// `storage`: the embedded SQLite database (conversations, inbox, outbox, jobs, usage).
///
/// ```yaml
/// storage: { sqlite_path: ./data/hub.sqlite, media_dir: ./data/media, media_ttl: 86400 }
/// ```
struct StorageSettings: ConfigurationSection {
    /// The database file; its directory is created when missing. `HUB_STORAGE_SQLITE_PATH`.
    var sqlitePath = "./data/hub.sqlite"
    /// Where generated images are kept, served at `/media/{id}.{ext}`. `HUB_STORAGE_MEDIA_DIR`.
    var mediaDir = "./data/media"
    /// Seconds a generated image (and its finished job) is kept. `HUB_STORAGE_MEDIA_TTL`.
    var mediaTTL: Double = 86400

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sqlitePath = "sqlite_path"
        case mediaDir = "media_dir"
        case mediaTTL = "media_ttl"
    }
}

extension StorageSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sqlitePath = try container.decode(.sqlitePath, default: Self().sqlitePath)
        mediaDir = try container.decode(.mediaDir, default: Self().mediaDir)
        mediaTTL = try container.decode(.mediaTTL, default: Self().mediaTTL)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.nonEmpty(sqlitePath, "storage.sqlite_path")
        validator.nonEmpty(mediaDir, "storage.media_dir")
        validator.positive(mediaTTL, "storage.media_ttl")
    }
}
