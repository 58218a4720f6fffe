// SPDX-License-Identifier: Apache-2.0

/// A file a job made, kept in the ``MediaStore`` under an unguessable id and served at
/// `/media/{id}.{ext}`.
public struct MediaFile: Sendable, Hashable, Codable {
    /// 32 lowercase hex digits (128 random bits).
    public var id: String
    public var format: GeneratedImage.Format
    public var width: Int?
    public var height: Int?

    public init(id: String, format: GeneratedImage.Format, width: Int? = nil, height: Int? = nil) {
        self.id = id
        self.format = format
        self.width = width
        self.height = height
    }

    /// `{id}.{ext}`.
    public var fileName: String { "\(id).\(format.fileExtension)" }
    /// The path the hub serves it at: `/media/{id}.{ext}`.
    public var urlPath: String { "/media/\(fileName)" }
}
