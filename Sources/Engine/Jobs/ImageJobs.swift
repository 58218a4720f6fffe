// SPDX-License-Identifier: Apache-2.0

/// What the chat doors' `/draw` needs from the `batch` lane: the queue image jobs go to, the store
/// their pictures land in, the size to draw, and whether any generator is configured at all.
public struct ImageJobs: Sendable {
    public let queue: JobQueue
    public let media: MediaStore
    public let width: Int
    public let height: Int
    /// False when `image.providers` is empty: `/draw` says so rather than queueing a job that must fail.
    public let isConfigured: Bool

    public init(queue: JobQueue, media: MediaStore, width: Int = 1024, height: Int = 1024, isConfigured: Bool) {
        self.queue = queue
        self.media = media
        self.width = width
        self.height = height
        self.isConfigured = isConfigured
    }
}
