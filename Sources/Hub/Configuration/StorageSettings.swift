// SPDX-License-Identifier: Apache-2.0

/// `storage`: the embedded SQLite database (conversations, inbox, outbox, jobs, usage).
///
/// ```yaml
/// storage: { sqlite_path: ./data/hub.sqlite }
/// ```
struct StorageSettings: ConfigurationSection {
    /// The database file; its directory is created when missing. `HUB_STORAGE_SQLITE_PATH`.
    var sqlitePath = "./data/hub.sqlite"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sqlitePath = "sqlite_path"
    }
}

extension StorageSettings {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sqlitePath = try container.decode(.sqlitePath, default: Self().sqlitePath)
    }

    func validate(into validator: inout ConfigurationValidator) {
        validator.nonEmpty(sqlitePath, "storage.sqlite_path")
    }
}
