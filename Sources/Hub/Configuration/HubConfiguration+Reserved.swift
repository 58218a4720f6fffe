// SPDX-License-Identifier: Apache-2.0

extension HubConfiguration {
    /// The sections this release accepts (so a file written for the next one still loads) but does
    /// not use yet, each with what it will drive. `hub check-config` and `hub serve` name those a
    /// configuration sets, rather than ignoring them silently.
    static let reservedSections: [(path: String, purpose: String)] = [
        ("image", "image generation"), ("lanes.batch", "image jobs"),
    ]

    /// One line for each reserved section that differs from its default here.
    var reservedNotes: [String] {
        let defaults = HubConfiguration()
        let changed: [String: Bool] = [
            "image": image != defaults.image, "lanes.batch": lanes.batch != defaults.lanes.batch,
        ]
        return Self.reservedSections.filter { changed[$0.path] == true }.map { section in
            "\(section.path) is reserved for a later release (\(section.purpose)): accepted, checked and not used yet"
        }
    }
}
